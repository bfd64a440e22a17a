//! One credential chain for every cloud (aws-config's shape): a cloud declares
//! its [`Source`]s as data — the name the operator sees, the `--credentials`
//! value that selects it, and how it loads — and this engine tries them in
//! order. A source that is not configured answers [`Attempt::NotConfigured`]
//! with the reason, kept for `-v` and for the final "no credential source
//! answered (…)" line; a source that is configured but broken stops the chain
//! with its own error.
//!
//! When credentials resolve is the same rule for every cloud: at first use
//! (connect), the whole chain at once ([`Chain::resolve`]). Setup only
//! checks the settings and builds the chain. Sources that read local material
//! (flags, environment, files) come first in every chain, so a broken key is
//! rejected (exit 2) before any source that needs the network (instance
//! metadata, a token exchange) is asked.
//!
//! Also shared: the key pair of every cloud that signs with one ([`KeyPair`],
//! temporary when it carries an expiry or a token), the rule for half of
//! one ([`static_pair`]), and the keys in use with their refresh after a 401
//! ([`Refreshing`]).

mod chain;
mod keys;
mod refresh;

pub use crate::redact::Secret;
pub use chain::{Attempt, Chain, Kinds, Load, NoneAnswered, Resolved, Source, Tried};
pub use keys::{KeyPair, PairHints, static_pair};
pub use refresh::{Refresh, Refreshing};

#[cfg(test)]
mod tests;
