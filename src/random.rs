//! The one source of randomness: the kernel's getrandom(2), through rustix
//! (a dependency already, for the file-system calls); no RNG crate. Jitter
//! asks the injected clock ([`crate::clock::Clock::jittered`]), which asks here.

/// Fills `buf` from the kernel.
pub fn fill(buf: &mut [u8]) {
    if rustix::rand::getrandom(&mut *buf, rustix::rand::GetRandomFlags::empty()).is_err() {
        // Never happens on Linux ≥ 3.17; names stay unique enough with the time.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
            .to_le_bytes();
        for (b, t) in buf.iter_mut().zip(t.iter().cycle()) {
            *b = *t;
        }
    }
}

/// `n` random bytes as hex (temporary file and directory names).
pub fn hex(n: usize) -> String {
    let mut buf = vec![0u8; n];
    fill(&mut buf);
    hex::encode(buf)
}

/// A random `u16` (DNS query ids, jitter).
pub fn u16() -> u16 {
    let mut b = [0u8; 2];
    fill(&mut b);
    u16::from_le_bytes(b)
}

#[cfg(test)]
mod tests {
    #[test]
    fn draws_differ_and_have_the_asked_size() {
        assert_eq!(super::hex(8).len(), 16);
        assert_eq!(super::hex(0), "");
        // 64 bits twice alike: one chance in 2^64.
        assert_ne!(super::hex(8), super::hex(8));
        // 32 draws of a u16 all alike: one chance in 2^480.
        let first = super::u16();
        assert!((0..31).any(|_| super::u16() != first));
    }
}
