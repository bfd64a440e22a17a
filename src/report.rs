//! Lines on stderr: one per change (certbot's log keeps them as an audit
//! trail), progress while waiting, detail under `-v`. Never a secret: callers
//! pass names, zones and values, never credentials.

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
}

impl Report {
    pub fn new(level: Level, out: Box<dyn Write>) -> Self {
        Report {
            level,
            out: RefCell::new(out),
        }
    }

    pub fn stderr(level: Level) -> Self {
        Report::new(level, Box::new(std::io::stderr()))
    }

    pub fn level(&self) -> Level {
        self.level
    }

    fn line(&self, msg: &str) {
        // A failed write to stderr must not fail the hook.
        // Lines may quote server text: its control characters are escaped.
        let msg = crate::redact::escape_controls(msg);
        let _ = writeln!(self.out.borrow_mut(), "otc-acme-hook: {msg}");
    }

    /// A change or a result: shown unless `-q`.
    pub fn info(&self, msg: impl AsRef<str>) {
        if self.level >= Level::Normal {
            self.line(msg.as_ref());
        }
    }

    /// Detail: only under `-v`.
    pub fn verbose(&self, msg: impl AsRef<str>) {
        if self.level >= Level::Verbose {
            self.line(msg.as_ref());
        }
    }

    /// Always shown, even under `-q` (warnings about unsafe configuration).
    pub fn warn(&self, msg: impl AsRef<str>) {
        self.line(&format!("warning: {}", msg.as_ref()));
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
