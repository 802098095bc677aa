//! vmsim's binary page-number format (`.pgt`), made to decode at memory speed: after the 8-byte
//! magic `VMSIMPG1`, each reference is one little-endian `u64`, the page number shifted left by
//! one with the write flag in bit 0. Page numbers therefore stay below 2^63. The trace ends at a
//! record boundary; a record cut short is an error.
use crate::error::TraceError;
use crate::pages::PageRef;
use std::io::{Read, Write};

/// The file magic.
pub const MAGIC: &[u8; 8] = b"VMSIMPG1";
const RECORD: usize = 8;

/// Encodes one reference; an error for a page number of 2^63 or more.
pub fn encode((page, write): PageRef) -> std::io::Result<[u8; RECORD]> {
    if page >> 63 != 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("page {page:#x} does not fit the pgt format (pages below 2^63)"),
        ));
    }
    Ok(((page << 1) | u64::from(write)).to_le_bytes())
}

/// Writes the magic.
pub fn write_header<W: Write>(w: &mut W) -> std::io::Result<()> {
    w.write_all(MAGIC)
}

/// Streams references out of a `.pgt` byte stream.
pub struct PgtReader<R> {
    records: crate::binary::FixedRecords<R>,
}

impl<R: Read> PgtReader<R> {
    /// A reader of `inner`, which must start with the magic (checked here).
    pub fn new(mut inner: R, name: &str) -> Result<Self, TraceError> {
        crate::binary::check_magic(&mut inner, name, MAGIC, "pgt")?;
        Ok(PgtReader {
            records: crate::binary::FixedRecords::new(inner, RECORD, MAGIC.len() as u64, name),
        })
    }

    /// References decoded so far.
    pub fn decoded(&self) -> u64 {
        self.records.index
    }

    /// An error about the reference numbered `index` (0-based).
    pub fn error_at(&self, index: u64, message: String) -> TraceError {
        TraceError::new(&self.records.name, self.records.location(index), message)
    }

    /// Fills `out` (cleared first) with up to its capacity of references.
    pub fn fill(&mut self, out: &mut Vec<PageRef>) -> Result<usize, TraceError> {
        self.records.fill(out, |c| {
            let v = u64::from_le_bytes(c.try_into().expect("chunks are 8 bytes"));
            (v >> 1, v & 1 == 1)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(bytes: &[u8], batch: usize) -> Result<Vec<PageRef>, TraceError> {
        let mut r = PgtReader::new(bytes, "t.pgt")?;
        let mut all = Vec::new();
        let mut buf = Vec::with_capacity(batch);
        while r.fill(&mut buf)? > 0 {
            all.extend_from_slice(&buf);
        }
        Ok(all)
    }

    #[test]
    fn round_trip_and_errors() {
        let refs: Vec<PageRef> = (0..20_000u64).map(|i| (i * 7919, i % 3 == 0)).collect();
        let mut bytes = MAGIC.to_vec();
        for &r in &refs {
            bytes.extend_from_slice(&encode(r).unwrap());
        }
        for batch in [1, 7, 4096, 100_000] {
            assert_eq!(read_all(&bytes, batch).unwrap(), refs);
        }
        bytes.push(0);
        let e = read_all(&bytes, 64).unwrap_err().to_string();
        assert_eq!(e, "t.pgt: record 20000 (byte 160008): record cut short");
        assert!(read_all(b"VMSIMTR1", 1).is_err());
        assert!(read_all(b"VM", 1).is_err());
        assert!(encode((1 << 63, false)).is_err());
    }
}
