//! The run engine (issue 20), moved here from src/hook.rs and src/certbot.rs.

pub mod engine;
pub mod hook;
