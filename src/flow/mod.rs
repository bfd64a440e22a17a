//! The run engine (issue 20): the sequence of a run — defer early values,
//! read, plan, write, commit per zone, wait once, mend, clean up — in one place.
//!
//! - [`contracts`]: what certbot, lego and acme.sh hand over ([`Challenge`](contracts::Challenge)).
//! - [`run`]: the journal's shortcuts for a certbot run (early hooks, batched bookkeeping).
//! - [`engine`]: the plan (one read per zone, before→after per name) and its
//!   execution, the wait once, mend and keep ([`Flow`](engine::Flow)).
//! - [`hook`]: the careful per-name write loop, the slow path a name falls back to.
//! - [`types`]: the named types they share (a name and its zone, a name's values).

pub mod contracts;
pub mod engine;
pub mod hook;
pub mod run;
pub mod types;

/// The bounded executor the engine's independent requests go out on (a
/// provider's own side-by-side reads use it too).
pub use crate::pool::run_all;
