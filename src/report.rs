//! Lines on stderr: one per change (certbot's log keeps them as an audit
//! trail), progress while waiting, detail under `-v`. Never a secret: callers
//! pass names, zones and values, never credentials.
//!
//! Under certbot (see `app::run`) the info lines go to stdout instead: certbot
//! logs any stderr output of a hook as a warning, stdout as a plain notice.

use std::io::Write;
use std::sync::Mutex;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Quiet,
    Normal,
    Verbose,
}

pub struct Report {
    level: Level,
    out: Mutex<Box<dyn Write + Send>>,
    /// Where info and verbose lines go when not to `out` (warnings always go to `out`).
    info_out: Option<Mutex<Box<dyn Write + Send>>>,
}

impl Report {
    pub fn new(level: Level, out: Box<dyn Write + Send>) -> Self {
        Report {
            level,
            out: Mutex::new(out),
            info_out: None,
        }
    }

    /// Info and verbose lines to `info_out`, warnings to `warn_out`.
    pub fn split(
        level: Level,
        info_out: Box<dyn Write + Send>,
        warn_out: Box<dyn Write + Send>,
    ) -> Self {
        Report {
            level,
            out: Mutex::new(warn_out),
            info_out: Some(Mutex::new(info_out)),
        }
    }

    pub fn stderr(level: Level) -> Self {
        Report::new(level, Box::new(std::io::stderr()))
    }

    pub fn level(&self) -> Level {
        self.level
    }

    fn line(out: &Mutex<Box<dyn Write + Send>>, msg: &str) {
        // A failed write to stderr (or stdout) must not fail the hook.
        // Lines may quote server text: its control characters are escaped,
        // and no secret the process holds is shown.
        let msg = crate::redact::escape_controls(&crate::redact::scrub(msg));
        // One lock per line: lines of threads never interleave.
        let mut out = crate::sync::lock(out);
        let _ = writeln!(out, "otc-acme-hook: {msg}");
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
pub struct Capture(pub std::sync::Arc<Mutex<Vec<u8>>>);

impl Capture {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&crate::sync::lock(&self.0)).into_owned()
    }
}

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        crate::sync::lock(&self.0).extend_from_slice(buf);
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
