//! The run engine, growing here (issue 20): for now the bounded executor that
//! sends a run's independent requests side by side.

pub mod pool;

pub use pool::run_all;
