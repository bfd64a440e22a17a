//! where the keys come from (placeholder)
