//! Little-endian encoding of checkpoint bodies: a growable writer and a
//! bounds-checked reader that reports truncation instead of panicking.

/// Appends little-endian values to a byte buffer.
#[derive(Debug, Default)]
pub struct Encoder {
    /// The bytes so far.
    pub bytes: Vec<u8>,
}

impl Encoder {
    /// Appends a `u32`.
    pub fn u32(&mut self, v: u32) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }

    /// Appends a `u64`.
    pub fn u64(&mut self, v: u64) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }

    /// Appends a length-prefixed byte string.
    pub fn bytes(&mut self, v: &[u8]) {
        self.u64(v.len() as u64);
        self.bytes.extend_from_slice(v);
    }

    /// Pads with zeros to a multiple of `align` bytes.
    pub fn align(&mut self, align: usize) {
        let pad = (align - self.bytes.len() % align) % align;
        self.bytes.resize(self.bytes.len() + pad, 0);
    }
}

/// Reads little-endian values from a byte slice.
#[derive(Debug)]
pub struct Decoder<'a> {
    bytes: &'a [u8],
    at: usize,
}

/// A body ended before a value it should hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Truncated;

impl std::fmt::Display for Truncated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("checkpoint body ends early")
    }
}

impl<'a> Decoder<'a> {
    /// Reads `bytes` from the start.
    pub fn new(bytes: &'a [u8]) -> Self {
        Decoder { bytes, at: 0 }
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.at
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], Truncated> {
        let end = self.at.checked_add(n).ok_or(Truncated)?;
        let slice = self.bytes.get(self.at..end).ok_or(Truncated)?;
        self.at = end;
        Ok(slice)
    }

    /// The next `u32`.
    pub fn u32(&mut self) -> Result<u32, Truncated> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    /// The next `u64`.
    pub fn u64(&mut self) -> Result<u64, Truncated> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }

    /// The next length-prefixed byte string.
    pub fn bytes(&mut self) -> Result<&'a [u8], Truncated> {
        let len = usize::try_from(self.u64()?).map_err(|_| Truncated)?;
        self.take(len)
    }

    /// Skips zero padding up to a multiple of `align` bytes.
    pub fn align(&mut self, align: usize) -> Result<(), Truncated> {
        let pad = (align - self.at % align) % align;
        self.take(pad).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_short_input_is_reported() {
        let mut e = Encoder::default();
        e.u32(7);
        e.bytes(b"abc");
        e.align(8);
        e.u64(u64::MAX - 1);
        let mut d = Decoder::new(&e.bytes);
        assert_eq!(d.u32(), Ok(7));
        assert_eq!(d.bytes(), Ok(&b"abc"[..]));
        assert_eq!(d.align(8), Ok(()));
        assert_eq!(d.position() % 8, 0);
        assert_eq!(d.u64(), Ok(u64::MAX - 1));
        assert_eq!(d.u32(), Err(Truncated));
        let mut short = Decoder::new(&e.bytes[..6]);
        assert_eq!(short.u32(), Ok(7));
        assert_eq!(short.bytes(), Err(Truncated));
    }
}
