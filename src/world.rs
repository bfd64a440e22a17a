//! Everything a run needs from the outside world (environment, clock,
//! stdio), injected so tests never depend on the developer's environment.

use std::collections::HashMap;
use std::sync::Arc;

use crate::clock::{Clock, SystemClock};

/// Everything a run needs from the outside world, injected.
pub struct World {
    pub env: HashMap<String, String>,
    pub clock: Arc<dyn Clock>,
    pub report_out: Box<dyn std::io::Write + Send>,
    /// Whether `report_out` is a terminal (someone watching, not certbot's log).
    pub report_is_terminal: bool,
    pub stdout: Box<dyn std::io::Write + Send>,
    pub stdin: Box<dyn std::io::Read>,
}

impl World {
    /// The system resolver configuration (for the NS fallback only).
    pub fn resolv_conf(&self) -> String {
        std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default()
    }

    pub fn real() -> World {
        World {
            env: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
            clock: Arc::new(SystemClock::default()),
            report_out: Box::new(std::io::stderr()),
            report_is_terminal: std::io::IsTerminal::is_terminal(&std::io::stderr()),
            stdout: Box::new(std::io::stdout()),
            stdin: Box::new(std::io::stdin()),
        }
    }
}
