//! Lines on stderr: one per change (certbot's log keeps them as an audit
//! trail), progress while waiting, detail under `-v`. Never a secret: callers
//! pass names, zones and values, never credentials.
//!
//! Under certbot (see `app::run`) the info lines go to stdout instead: certbot
//! logs any stderr output of a hook as a warning, stdout as a plain notice.

use std::cell::RefCell;
use std::io::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Quiet,
    Normal,
    Verbose,
}

pub struct Report {
    level: Level,
    out: RefCell<Box<dyn Write>>,
    /// Where info and verbose lines go when not to `out` (warnings always go to `out`).
    info_out: Option<RefCell<Box<dyn Write>>>,
}

impl Report {
    pub fn new(level: Level, out: Box<dyn Write>) -> Self {
        Report {
            level,
            out: RefCell::new(out),
            info_out: None,
        }
    }

    /// Info and verbose lines to `info_out`, warnings to `warn_out`.
    pub fn split(level: Level, info_out: Box<dyn Write>, warn_out: Box<dyn Write>) -> Self {
        Report {
            level,
            out: RefCell::new(warn_out),
            info_out: Some(RefCell::new(info_out)),
        }
    }

    pub fn stderr(level: Level) -> Self {
        Report::new(level, Box::new(std::io::stderr()))
    }

    pub fn level(&self) -> Level {
        self.level
    }

    fn line(out: &RefCell<Box<dyn Write>>, msg: &str) {
        // A failed write to stderr (or stdout) must not fail the hook.
        // Lines may quote server text: its control characters are escaped,
        // and no secret the process holds is shown.
        let msg = crate::redact::escape_controls(&crate::redact::scrub(msg));
        let _ = writeln!(out.borrow_mut(), "otc-acme-hook: {msg}");
    }

    fn info_line(&self, msg: &str) {
        Self::line(self.info_out.as_ref().unwrap_or(&self.out), msg);
    }

    /// A change or a result: shown unless `-q`.
    pub fn info(&self, msg: impl AsRef<str>) {
        if self.level >= Level::Normal {
            self.info_line(msg.as_ref());
        }
    }

    /// Detail: only under `-v`.
    pub fn verbose(&self, msg: impl AsRef<str>) {
        if self.level >= Level::Verbose {
            self.info_line(msg.as_ref());
        }
    }

    /// Always shown, even under `-q` (warnings about unsafe configuration).
    pub fn warn(&self, msg: impl AsRef<str>) {
        Self::line(&self.out, &format!("warning: {}", msg.as_ref()));
    }
}

/// A writer that keeps what was written, for tests.
#[derive(Clone, Default)]
pub struct Capture(pub std::rc::Rc<RefCell<Vec<u8>>>);

impl Capture {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.borrow()).into_owned()
    }
}

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_sends_info_and_verbose_one_way_and_warnings_the_other() {
        let (info, warn) = (Capture::default(), Capture::default());
        let r = Report::split(
            Level::Verbose,
            Box::new(info.clone()),
            Box::new(warn.clone()),
        );
        r.info("added");
        r.verbose("detail");
        r.warn("careful");
        assert_eq!(info.text(), "otc-acme-hook: added\notc-acme-hook: detail\n");
        assert_eq!(warn.text(), "otc-acme-hook: warning: careful\n");
    }
}
