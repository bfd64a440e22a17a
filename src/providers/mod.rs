pub mod ovh;
