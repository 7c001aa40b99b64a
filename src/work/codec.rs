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

    /// Appends `v` in LEB128: seven bits a byte, low bits first, the high bit
    /// set on every byte but the last (one byte below 128, ten at most).
    pub fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.bytes.push(v as u8 | 0x80);
            v >>= 7;
        }
        self.bytes.push(v as u8);
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

    /// The next value written by [`Encoder::varint`]. A value that does not fit
    /// 64 bits, or is written longer than needed (a last byte of zero), is
    /// damage, reported as truncation: every value reads from one encoding only.
    pub fn varint(&mut self) -> Result<u64, Truncated> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.take(1)?[0];
            let bits = u64::from(byte & 0x7f);
            if (shift == 63 && bits > 1) || (shift > 0 && byte == 0) {
                return Err(Truncated);
            }
            value |= bits << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(Truncated)
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
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn varints_round_trip_in_few_bytes(values in prop::collection::vec(any::<u64>(), 0..20)) {
            let mut e = Encoder::default();
            for &v in &values {
                e.varint(v);
                e.varint(v >> 40);
            }
            let mut d = Decoder::new(&e.bytes);
            for &v in &values {
                prop_assert_eq!(d.varint(), Ok(v));
                prop_assert_eq!(d.varint(), Ok(v >> 40));
            }
            prop_assert_eq!(d.position(), e.bytes.len());
            prop_assert_eq!(d.varint(), Err(Truncated));
        }
    }

    #[test]
    fn varint_sizes_and_damage() {
        let size = |v: u64| {
            let mut e = Encoder::default();
            e.varint(v);
            e.bytes.len()
        };
        assert_eq!(
            (size(0), size(127), size(128), size(u64::MAX)),
            (1, 1, 2, 10)
        );
        // A continuation byte at the end, and an eleventh byte, are refused.
        assert_eq!(Decoder::new(&[0x80]).varint(), Err(Truncated));
        assert_eq!(Decoder::new(&[0x80, 0x00]).varint(), Err(Truncated));
        assert_eq!(Decoder::new(&[0x81, 0x00]).varint(), Err(Truncated));
        assert_eq!(Decoder::new(&[0xff; 11]).varint(), Err(Truncated));
        assert_eq!(
            Decoder::new(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]).varint(),
            Err(Truncated)
        );
    }

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
