//! The engine: sources as data, tried in order; the tried line; the filter.

use std::fmt;
use std::sync::Arc;

use crate::error::{Error, Exit, Result};

/// What one source did.
#[derive(Debug, Clone)]
pub enum Attempt<C> {
    Loaded(C),
    /// Not configured: the chain goes on; the reason is kept for the final message.
    NotConfigured(String),
}

/// How a source loads, given `X` (what its side effects need: transports, a
/// role fetcher); a source of local material ignores it.
pub type Load<C, X> = Arc<dyn Fn(&X) -> Result<Attempt<C>> + Send + Sync>;

/// One source of a chain, as data.
pub struct Source<C, X: ?Sized = ()> {
    /// As shown to the operator ("environment", "ECS metadata", …).
    pub name: &'static str,
    /// The `--credentials` value that selects it ("static", "file", …).
    pub kind: &'static str,
    /// The chain's last resort: when it fails after others were passed over,
    /// its error says why each of them was ("no credential source answered
    /// (a: …; b: …; this: its cause)").
    pub last_resort: bool,
    /// Needs the network: comes after every source of local material.
    pub network: bool,
    pub load: Load<C, X>,
}

impl<C, X: ?Sized> Clone for Source<C, X> {
    fn clone(&self) -> Self {
        Source {
            name: self.name,
            kind: self.kind,
            last_resort: self.last_resort,
            network: self.network,
            load: self.load.clone(),
        }
    }
}

impl<C, X: ?Sized> Source<C, X> {
    /// A source of local material (flags, environment, files).
    pub fn local(
        name: &'static str,
        kind: &'static str,
        load: impl Fn() -> Result<Attempt<C>> + Send + Sync + 'static,
    ) -> Self {
        Source {
            network: false,
            ..Self::network(name, kind, move |_: &X| load())
        }
    }

    /// A source that needs `X` (the network).
    pub fn network(
        name: &'static str,
        kind: &'static str,
        load: impl Fn(&X) -> Result<Attempt<C>> + Send + Sync + 'static,
    ) -> Self {
        Source {
            name,
            kind,
            last_resort: false,
            network: true,
            load: Arc::new(load),
        }
    }

    /// See [`Source::last_resort`].
    pub fn last_resort(mut self) -> Self {
        self.last_resort = true;
        self
    }
}

impl<C, X: ?Sized> fmt::Debug for Source<C, X> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Source")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("network", &self.network)
            .finish()
    }
}

/// The values `--credentials` takes for a cloud.
#[derive(Debug, Clone, Copy)]
pub struct Kinds {
    /// The cloud as named in the message for a value not among them ("NCP").
    pub cloud: &'static str,
    /// Every value; empty: the cloud has no such filter and ignores the setting.
    pub values: &'static [&'static str],
}

impl Kinds {
    /// The filter `--credentials` / `OTC_CREDENTIALS` sets (blank = none); a
    /// value the cloud does not declare is a rejection.
    pub fn only(&self, given: Option<&str>) -> Result<Option<&'static str>> {
        let Some(c) = given.map(str::trim).filter(|c| !c.is_empty()) else {
            return Ok(None);
        };
        if self.values.is_empty() {
            return Ok(None);
        }
        match self.values.iter().find(|v| **v == c) {
            Some(v) => Ok(Some(v)),
            None => Err(Error::rejected(
                "config",
                format!(
                    "--credentials {c:?} is not one of {}'s sources ({})",
                    self.cloud,
                    self.values.join(", ")
                ),
            )),
        }
    }
}

/// How the chain ends when no source answered.
#[derive(Debug, Clone)]
pub struct NoneAnswered {
    /// "no credential source answered", or a cloud's wording of it.
    pub what: &'static str,
    pub exit: Exit,
    pub hint: &'static str,
}

/// What the chain passed over so far, with why.
#[derive(Debug, Clone, Default)]
pub struct Tried {
    /// `name: why`, one per source passed over.
    pub skipped: Vec<String>,
}

/// The answer: what loaded, which source it was, and what was passed over.
#[derive(Debug, Clone)]
pub struct Resolved<C> {
    pub value: C,
    /// The name of the source that answered.
    pub source: &'static str,
    pub tried: Tried,
}

/// A chain: the sources in order, the filter, the ending.
pub struct Chain<C, X: ?Sized = ()> {
    pub sources: Vec<Source<C, X>>,
    /// `--credentials`: only sources of this kind.
    pub only: Option<&'static str>,
    pub none: NoneAnswered,
}

impl<C, X: ?Sized> Clone for Chain<C, X> {
    fn clone(&self) -> Self {
        Chain {
            sources: self.sources.clone(),
            only: self.only,
            none: self.none.clone(),
        }
    }
}

impl<C, X: ?Sized> fmt::Debug for Chain<C, X> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Chain")
            .field("sources", &self.sources)
            .field("only", &self.only)
            .finish()
    }
}

impl<C, X: ?Sized> Chain<C, X> {
    /// Tries each source in order (only those of the filter's kind); the
    /// first that loads wins. `log` takes each `-v` line ("credentials: flags
    /// skipped (…)", "credentials: environment answered"). May run again (a
    /// refresh): every source loads anew.
    pub fn resolve(&self, x: &X, log: &dyn Fn(&str)) -> Result<Resolved<C>> {
        debug_assert!(self.local_first(), "{:?}", self.sources);
        let mut tried = Tried::default();
        for source in &self.sources {
            if self.only.is_some_and(|k| k != source.kind) {
                continue;
            }
            if let Some(c) = step(source, (source.load)(x), &mut tried, log)? {
                return Ok(Resolved {
                    value: c,
                    source: source.name,
                    tried,
                });
            }
        }
        Err(self.none_answered(&tried))
    }

    /// Whether every source of local material comes before every network
    /// one: a broken key is then rejected before the network is asked.
    pub fn local_first(&self) -> bool {
        self.sources.is_sorted_by_key(|s| s.network)
    }

    fn none_answered(&self, tried: &Tried) -> Error {
        if self.only.is_some() {
            return Error::rejected(
                "credentials",
                format!(
                    "the source forced by --credentials is not configured ({})",
                    tried.skipped.join("; ")
                ),
            )
            .hint("configure it, or drop --credentials / OTC_CREDENTIALS");
        }
        let e = Error {
            exit: self.none.exit,
            step: "credentials",
            cause: format!("{} ({})", self.none.what, tried.skipped.join("; ")),
            hint: None,
        };
        e.hint(self.none.hint)
    }
}

/// One source's attempt, recorded: `Some` when it answered.
fn step<C, X: ?Sized>(
    source: &Source<C, X>,
    attempt: Result<Attempt<C>>,
    tried: &mut Tried,
    log: &dyn Fn(&str),
) -> Result<Option<C>> {
    let attempt = match attempt {
        Ok(a) => a,
        // The last resort failed too: say why every source before it was passed over.
        Err(mut e) if source.last_resort && !tried.skipped.is_empty() => {
            e.cause = format!(
                "no credential source answered ({}; {}: {})",
                tried.skipped.join("; "),
                source.name,
                e.cause
            );
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    Ok(match attempt {
        Attempt::Loaded(c) => {
            log(&format!("credentials: {} answered", source.name));
            Some(c)
        }
        Attempt::NotConfigured(why) => {
            log(&format!("credentials: {} skipped ({why})", source.name));
            tried.skipped.push(format!("{}: {why}", source.name));
            None
        }
    })
}
