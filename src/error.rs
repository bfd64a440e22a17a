//! The one error type the binary reports: which step failed, why, and the fix.

use std::fmt;

/// How the process exits for an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Rejected before any network call: usage, invalid input or configuration (exit 2).
    Rejected,
    /// Anything else (exit 1).
    Failed,
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Rejected => 2,
            Exit::Failed => 1,
        }
    }
}

/// Printed as one line: `<step>: <cause>[; <hint>]`.
#[derive(Debug, Clone)]
pub struct Error {
    pub exit: Exit,
    pub step: &'static str,
    pub cause: String,
    pub hint: Option<String>,
}

impl Error {
    /// Bad usage, input or configuration, found before any network call.
    pub fn rejected(step: &'static str, cause: impl Into<String>) -> Self {
        Error {
            exit: Exit::Rejected,
            step,
            cause: cause.into(),
            hint: None,
        }
    }

    /// A failure after the network was touched (or anything not the user's input).
    pub fn failed(step: &'static str, cause: impl Into<String>) -> Self {
        Error {
            exit: Exit::Failed,
            step,
            cause: cause.into(),
            hint: None,
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The hint, when there is one.
    pub fn hint_opt(mut self, hint: Option<&str>) -> Self {
        if let Some(h) = hint {
            self.hint = Some(h.to_string());
        }
        self
    }

    /// Re-labels the step, keeping cause and hint (e.g. "api" inside "auth").
    pub fn at(mut self, step: &'static str) -> Self {
        self.step = step;
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Multi-line causes would break the one-line contract certbot's log relies on.
        // Server text may carry control characters: escaped, never sent to the terminal.
        // Nor a secret the process holds, whatever the server echoed.
        let cause = crate::redact::scrub(&self.cause.replace(['\n', '\r'], " "));
        let cause = crate::redact::escape_controls(&cause);
        write!(f, "{}: {}", self.step, cause.trim())?;
        if let Some(h) = &self.hint {
            let h = crate::redact::scrub(h);
            write!(f, "; {}", crate::redact::escape_controls(&h))?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_with_hint() {
        let e = Error::failed("zone", "no zone\nfor x").hint("create it");
        assert_eq!(e.to_string(), "zone: no zone for x; create it");
        assert_eq!(e.exit.code(), 1);
        assert_eq!(Error::rejected("input", "x").exit.code(), 2);
    }
}
