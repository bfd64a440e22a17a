//! DNS over std sockets: UDP with EDNS0, TCP when the answer is truncated.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::Duration;

use super::wire::{self, Answer, QType};

/// Why a server gave no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryError {
    /// This host can't reach that address family (no IPv6 route, say): skip it.
    Unreachable(String),
    Failed(String),
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QueryError::Unreachable(m) | QueryError::Failed(m) => f.write_str(m),
        }
    }
}

/// Asks one server one question. `Sync`: a poll asks its questions side by side.
pub trait DnsQuery: Sync {
    fn ask(
        &self,
        server: SocketAddr,
        name: &str,
        qtype: QType,
        recursion: bool,
    ) -> Result<Answer, QueryError>;
}

/// The real thing.
pub struct NetDns {
    pub timeout: Duration,
}

fn unreachable_kind(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        NetworkUnreachable | HostUnreachable | AddrNotAvailable
    ) || e.raw_os_error() == Some(97) // EAFNOSUPPORT: no IPv6 stack
}

fn io_err(server: SocketAddr, what: &str, e: std::io::Error) -> QueryError {
    use std::io::ErrorKind::{TimedOut, WouldBlock};
    // A read timeout surfaces as WouldBlock on Unix; say what it means.
    let msg = if matches!(e.kind(), WouldBlock | TimedOut) {
        format!("{server}: no {what} answer in time")
    } else {
        format!("{server}: {what}: {e}")
    };
    if unreachable_kind(&e) {
        QueryError::Unreachable(msg)
    } else {
        QueryError::Failed(msg)
    }
}

impl NetDns {
    fn udp(
        &self,
        server: SocketAddr,
        msg: &[u8],
        id: u16,
        name: &str,
    ) -> Result<Answer, QueryError> {
        let bind: SocketAddr = if server.is_ipv6() {
            "[::]:0".parse().expect("literal")
        } else {
            "0.0.0.0:0".parse().expect("literal")
        };
        let sock = UdpSocket::bind(bind).map_err(|e| io_err(server, "udp bind", e))?;
        sock.connect(server)
            .map_err(|e| io_err(server, "udp connect", e))?;
        sock.set_read_timeout(Some(self.timeout))
            .map_err(|e| io_err(server, "udp", e))?;
        sock.send(msg).map_err(|e| io_err(server, "udp send", e))?;
        let mut buf = vec![0u8; 4096];
        loop {
            let n = sock.recv(&mut buf).map_err(|e| io_err(server, "UDP", e))?;
            // A stray datagram with another id is ignored, not taken as the answer.
            match wire::parse(&buf[..n], id, name) {
                Err(e) if e.contains("id mismatch") => continue,
                other => return other.map_err(|e| QueryError::Failed(format!("{server}: {e}"))),
            }
        }
    }

    fn tcp(
        &self,
        server: SocketAddr,
        msg: &[u8],
        id: u16,
        name: &str,
    ) -> Result<Answer, QueryError> {
        let mut s = TcpStream::connect_timeout(&server, self.timeout)
            .map_err(|e| io_err(server, "tcp connect", e))?;
        s.set_read_timeout(Some(self.timeout))
            .and_then(|_| s.set_write_timeout(Some(self.timeout)))
            .map_err(|e| io_err(server, "tcp", e))?;
        let len =
            u16::try_from(msg.len()).map_err(|_| QueryError::Failed("query too long".into()))?;
        let mut framed = len.to_be_bytes().to_vec();
        framed.extend_from_slice(msg);
        s.write_all(&framed)
            .map_err(|e| io_err(server, "tcp send", e))?;
        let mut lenb = [0u8; 2];
        s.read_exact(&mut lenb)
            .map_err(|e| io_err(server, "TCP", e))?;
        // At most 64 KiB by construction of the length prefix.
        let mut body = vec![0u8; u16::from_be_bytes(lenb) as usize];
        s.read_exact(&mut body)
            .map_err(|e| io_err(server, "TCP", e))?;
        wire::parse(&body, id, name).map_err(|e| QueryError::Failed(format!("{server}: {e}")))
    }
}

impl DnsQuery for NetDns {
    fn ask(
        &self,
        server: SocketAddr,
        name: &str,
        qtype: QType,
        recursion: bool,
    ) -> Result<Answer, QueryError> {
        let id = crate::random::u16();
        let msg = wire::query(id, name, qtype, recursion).map_err(QueryError::Failed)?;
        let a = self.udp(server, &msg, id, name)?;
        if a.truncated {
            let mut a = self.tcp(server, &msg, id, name)?;
            a.via_tcp = true;
            return Ok(a);
        }
        Ok(a)
    }
}
