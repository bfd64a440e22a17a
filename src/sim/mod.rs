//! Loopback simulator of the OTC pieces the hook talks to.
