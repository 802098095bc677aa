//! libCacheSim's binary `oracleGeneral` traces (`*.oracleGeneral.bin`, often `.zst`): packed
//! little-endian records of 24 bytes, `u32 clock_time, u64 obj_id, u32 obj_size,
//! i64 next_access_vtime`, without a header; and `oracleGeneralOpNS`, 27 bytes with a `u8 op`
//! and a `u16 namespace` before `next_access_vtime`. Each record is a request for an object
//! ([`crate::objects`]): the id is the key as it is. An op of libCacheSim's set, add, replace,
//! cas, append, prepend, incr, decr, write or update is a write; any other a read. The time,
//! the namespace and the next access (which vmsim's OPT computes itself) are not used.
use crate::error::TraceError;
use crate::objects::Object;
use crate::pages::PageRef;
use std::io::{Read, Write};

/// Which of the two record layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `oracleGeneral`, 24 bytes.
    Plain,
    /// `oracleGeneralOpNS`, 27 bytes.
    OpNs,
}

impl Layout {
    /// Bytes of one record.
    pub const fn size(self) -> usize {
        match self {
            Layout::Plain => 24,
            Layout::OpNs => 27,
        }
    }
}

/// libCacheSim's op codes that write.
fn writes(op: u8) -> bool {
    matches!(op, 3..=8 | 10 | 11 | 13 | 14)
}

/// Whether `head` (the start of an unnamed binary trace) looks like `oracleGeneral`: at least
/// two whole records, clock times that never go back, and next-access times that are -1 (or
/// libCacheSim's `INT64_MAX`) or later than their own request.
pub fn looks_like(head: &[u8]) -> bool {
    let recs: Vec<&[u8]> = head.chunks_exact(24).collect();
    recs.len() >= 2
        && recs.windows(2).all(|w| le32(w[0], 0) <= le32(w[1], 0))
        && recs.iter().enumerate().all(|(i, r)| {
            let next = i64::from_le_bytes(r[16..24].try_into().expect("8 bytes"));
            next == -1 || next == i64::MAX || next > i as i64
        })
}

/// The object id of a record.
#[inline(always)]
fn key(c: &[u8]) -> u64 {
    u64::from_le_bytes(c[4..12].try_into().expect("8 bytes"))
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

/// Writes one request as an `oracleGeneral` record (for tests and generators: vmsim does not
/// convert to it, as the next-access times need the whole trace).
pub fn write_record<W: Write>(
    w: &mut W,
    layout: Layout,
    time: u32,
    obj: Object,
    next_access: i64,
) -> std::io::Result<()> {
    w.write_all(&time.to_le_bytes())?;
    w.write_all(&obj.key.to_le_bytes())?;
    w.write_all(&(obj.size.min(u64::from(u32::MAX)) as u32).to_le_bytes())?;
    if layout == Layout::OpNs {
        w.write_all(&[if obj.write { 3 } else { 1 }, 0, 0])?;
    }
    w.write_all(&next_access.to_le_bytes())
}

/// Streams requests out of an `oracleGeneral` byte stream.
pub struct OracleReader<R> {
    records: crate::binary::FixedRecords<R>,
    layout: Layout,
}

impl<R: Read> OracleReader<R> {
    /// A reader of `inner` in `layout`.
    pub fn new(inner: R, layout: Layout, name: &str) -> Self {
        OracleReader {
            records: crate::binary::FixedRecords::new(inner, layout.size(), 0, name),
            layout,
        }
    }

    /// Fills `out` (cleared first) with up to its capacity of requests; 0 at the end.
    pub fn fill(&mut self, out: &mut Vec<Object>) -> Result<usize, TraceError> {
        let op_ns = self.layout == Layout::OpNs;
        self.records.fill(out, |c| Object {
            key: key(c),
            size: u64::from(le32(c, 12)),
            write: op_ns && writes(c[16]),
        })
    }

    /// Fills `out` (cleared first) with the page of each request, sizes ignored; 0 at the end.
    pub fn fill_pages(&mut self, out: &mut Vec<PageRef>) -> Result<usize, TraceError> {
        match self.layout {
            Layout::Plain => self.records.fill(out, |c| (key(c), false)),
            Layout::OpNs => self.records.fill(out, |c| (key(c), writes(c[16]))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_layouts_read_back_and_a_cut_record_is_named() {
        for layout in [Layout::Plain, Layout::OpNs] {
            let objs: Vec<Object> = (0..5000u64)
                .map(|i| Object {
                    key: i * 7919 % 1000,
                    size: i * 13,
                    write: layout == Layout::OpNs && i % 3 == 0,
                })
                .collect();
            let mut bytes = Vec::new();
            for (i, &o) in objs.iter().enumerate() {
                write_record(&mut bytes, layout, i as u32, o, -1).unwrap();
            }
            assert!(looks_like(&bytes) || layout == Layout::OpNs);
            let mut r = OracleReader::new(&bytes[..], layout, "t.bin");
            let (mut all, mut buf) = (Vec::new(), Vec::with_capacity(777));
            while r.fill(&mut buf).unwrap() > 0 {
                all.extend_from_slice(&buf);
            }
            assert_eq!(all, objs);
            bytes.pop();
            let mut r = OracleReader::new(&bytes[..], layout, "t.bin");
            let mut buf = Vec::with_capacity(100_000);
            let e = r.fill(&mut buf).unwrap_err().to_string();
            let (i, at) = (4999, 4999 * layout.size());
            assert_eq!(
                e,
                format!("t.bin: record {i} (byte {at}): record cut short")
            );
        }
    }
}
