//! ChampSim instruction traces (`*.champsimtrace`, distributed as `.xz` or `.gz`): fixed-size
//! little-endian records of ChampSim's `struct input_instr`, 64 bytes: `u64 ip`, `u8
//! is_branch`, `u8 branch_taken`, `u8 destination_registers[2]`, `u8 source_registers[4]`,
//! `u64 destination_memory[2]`, `u64 source_memory[4]`. The CloudSuite variant
//! (`cloudsuite_instr`) has four destinations of each kind and an ASID byte pair after the
//! sources: 90 bytes padded to 96 by the C layout.
//!
//! A record becomes an instruction fetch at `ip`, then a read per non-zero source address,
//! then a write per non-zero destination address, in slot order, each of one byte (ChampSim
//! works in cache lines, so no access of a record crosses a page). A record with `ip` 0 gives
//! no fetch: vmsim writes such records for accesses that no fetch precedes. The CloudSuite
//! ASID (little-endian `u16`) is the process id; standard records belong to process 1.
//! Branch and register fields are not used (they are written as zeros).
use crate::error::{Location, TraceError};
use crate::reader::AddressCheck;
use crate::record::Record;
use std::io::{self, Read, Write};
use vmsim_core::{AccessKind, VirtAddr};

/// Where the fields of one record variant lie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Bytes of a record.
    pub size: usize,
    /// Offset and count of the destination (written) addresses.
    pub dst: (usize, usize),
    /// Offset and count of the source (read) addresses.
    pub src: (usize, usize),
    /// Offset of the ASID pair, in the CloudSuite variant.
    pub asid: Option<usize>,
}

/// `struct input_instr`.
pub const STANDARD: Layout = Layout {
    size: 64,
    dst: (16, 2),
    src: (32, 4),
    asid: None,
};

/// `struct cloudsuite_instr`.
pub const CLOUDSUITE: Layout = Layout {
    size: 96,
    dst: (24, 4),
    src: (56, 4),
    asid: Some(88),
};

/// Most records one ChampSim record becomes.
pub const MAX_PER_RECORD: usize = 9;

#[inline(always)]
fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// Whether `head` (the start of an unnamed binary trace) looks like standard ChampSim records:
/// at least one whole record, the branch flags 0 or 1 and never taken without a branch, and
/// an access in every record (an instruction pointer or an address).
pub fn looks_like(head: &[u8]) -> bool {
    let mut recs = head.chunks_exact(STANDARD.size).peekable();
    recs.peek().is_some()
        && recs
            .all(|r| r[8] <= 1 && r[9] <= r[8] && (0..8).any(|i| i != 1 && u64_at(r, 8 * i) != 0))
}

/// Streams records out of a ChampSim byte stream.
pub struct ChampSimReader<R> {
    inner: R,
    layout: Layout,
    buf: Vec<u8>,
    end: usize,
    eof: bool,
    /// ChampSim records decoded so far.
    index: u64,
    name: String,
}

impl<R: Read> ChampSimReader<R> {
    /// A reader of `inner` in `layout`.
    pub fn new(inner: R, layout: Layout, name: &str) -> Self {
        ChampSimReader {
            inner,
            layout,
            // 2048 records, over the reader's 64 KiB BufReader: reads bypass its copy.
            buf: vec![0; layout.size << 11],
            end: 0,
            eof: false,
            index: 0,
            name: name.to_string(),
        }
    }

    fn loc(&self, index: u64) -> Location {
        Location::Record {
            index,
            offset: index * self.layout.size as u64,
        }
    }

    /// Fills `buf` (cleared first) with the records of as many ChampSim records as surely fit
    /// its capacity (at least one); 0 at the end.
    pub fn fill(
        &mut self,
        buf: &mut Vec<Record>,
        check: AddressCheck,
    ) -> Result<usize, TraceError> {
        if buf.capacity() < MAX_PER_RECORD {
            buf.reserve(MAX_PER_RECORD);
        }
        // Records are stored into a slice of the whole capacity (a push would write the length
        // back after every record); the rest is cut off at the end.
        let cap = buf.capacity();
        buf.resize(cap, Record::new(AccessKind::Read, 0));
        let out = &mut buf[..];
        let size = self.layout.size;
        let fast = check.fast();
        let mut n = 0;
        let mut pos = 0;
        let result = loop {
            if self.end - pos < size {
                self.buf.copy_within(pos..self.end, 0);
                self.end -= pos;
                pos = 0;
                if self.eof || n + MAX_PER_RECORD > cap {
                    break Ok(());
                }
                if let Err(e) = crate::binary::top_up(
                    &mut self.inner,
                    &mut self.buf,
                    &mut self.end,
                    &mut self.eof,
                ) {
                    break Err(TraceError::io(&self.name, self.loc(self.index), e));
                }
                continue;
            }
            if n + MAX_PER_RECORD > cap {
                self.buf.copy_within(pos..self.end, 0);
                self.end -= pos;
                break Ok(());
            }
            let r = &self.buf[pos..pos + size];
            let pid = match self.layout.asid {
                Some(a) => u32::from(u16::from_le_bytes([r[a], r[a + 1]])),
                None => Record::DEFAULT_PID,
            };
            let mut ok = true;
            let mut put = |kind, addr: u64| {
                if addr != 0 {
                    out[n] = Record {
                        pid,
                        cpu: 0,
                        kind,
                        addr: VirtAddr::new_unchecked(addr),
                        size: 1,
                    };
                    n += 1;
                    ok &= fast.surely_passes(addr, 1);
                }
            };
            put(AccessKind::Fetch, u64_at(r, 0));
            let (so, sn) = self.layout.src;
            for i in 0..sn {
                put(AccessKind::Read, u64_at(r, so + 8 * i));
            }
            let (d, dn) = self.layout.dst;
            for i in 0..dn {
                put(AccessKind::Write, u64_at(r, d + 8 * i));
            }
            if !ok {
                let bad = [u64_at(r, 0)]
                    .into_iter()
                    .chain((0..sn).map(|i| u64_at(r, so + 8 * i)))
                    .chain((0..dn).map(|i| u64_at(r, d + 8 * i)))
                    .filter(|&a| a != 0)
                    .find_map(|a| check.check(&Record::new(AccessKind::Read, a)).err());
                let m = bad.map(|e| e.to_string()).unwrap_or_default();
                break Err(TraceError::new(&self.name, self.loc(self.index), m));
            }
            self.index += 1;
            pos += size;
        };
        buf.truncate(n);
        result?;
        if self.eof && self.end != 0 && n == 0 {
            return Err(TraceError::new(
                &self.name,
                self.loc(self.index),
                format!("record cut short ({} of {size} bytes)", self.end),
            ));
        }
        Ok(n)
    }
}

/// Packs records into ChampSim records: a fetch starts one, reads fill its sources and writes
/// its destinations; a read after a write, a slot too many, a new process (CloudSuite) or a
/// data access before any fetch starts a record with `ip` 0.
pub struct ChampSimEncoder {
    layout: Layout,
    cur: [u8; 96],
    open: bool,
    srcs: usize,
    dsts: usize,
}

impl ChampSimEncoder {
    /// An encoder of `layout` records.
    pub fn new(layout: Layout) -> Self {
        ChampSimEncoder {
            layout,
            cur: [0; 96],
            open: false,
            srcs: 0,
            dsts: 0,
        }
    }

    fn flush<W: Write>(&mut self, w: &mut W) -> io::Result<()> {
        if self.open {
            w.write_all(&self.cur[..self.layout.size])?;
        }
        self.open = false;
        Ok(())
    }

    fn start<W: Write>(&mut self, w: &mut W, ip: u64, pid: u32) -> io::Result<()> {
        self.flush(w)?;
        self.cur = [0; 96];
        self.cur[..8].copy_from_slice(&ip.to_le_bytes());
        if let Some(a) = self.layout.asid {
            let asid = u16::try_from(pid).map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("pid {pid} does not fit a CloudSuite ASID (16 bits)"),
                )
            })?;
            self.cur[a..a + 2].copy_from_slice(&asid.to_le_bytes());
        }
        self.open = true;
        self.srcs = 0;
        self.dsts = 0;
        Ok(())
    }

    fn pid(&self) -> u32 {
        match self.layout.asid {
            Some(a) => u32::from(u16::from_le_bytes([self.cur[a], self.cur[a + 1]])),
            None => Record::DEFAULT_PID,
        }
    }

    /// Adds one record, writing the ChampSim records it completes to `w`. Address 0 cannot
    /// be written (ChampSim's "no access").
    pub fn encode<W: Write>(&mut self, r: &Record, w: &mut W) -> io::Result<()> {
        let a = r.addr.as_u64();
        if a == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "ChampSim cannot hold an access to address 0 (it means no access)",
            ));
        }
        let pid = if self.layout.asid.is_some() {
            r.pid
        } else {
            Record::DEFAULT_PID
        };
        let same = self.open && self.pid() == pid;
        match r.kind {
            AccessKind::Fetch => self.start(w, a, pid),
            AccessKind::Read => {
                if !same || self.dsts > 0 || self.srcs == self.layout.src.1 {
                    self.start(w, 0, pid)?;
                }
                let at = self.layout.src.0 + 8 * self.srcs;
                self.cur[at..at + 8].copy_from_slice(&a.to_le_bytes());
                self.srcs += 1;
                Ok(())
            }
            AccessKind::Write => {
                if !same || self.dsts == self.layout.dst.1 {
                    self.start(w, 0, pid)?;
                }
                let at = self.layout.dst.0 + 8 * self.dsts;
                self.cur[at..at + 8].copy_from_slice(&a.to_le_bytes());
                self.dsts += 1;
                Ok(())
            }
        }
    }

    /// Writes the record still open.
    pub fn finish<W: Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.flush(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn read_all(bytes: &[u8], layout: Layout, cap: usize) -> Result<Vec<Record>, TraceError> {
        let mut r = ChampSimReader::new(bytes, layout, "t.champsim");
        let (mut all, mut buf) = (Vec::new(), Vec::with_capacity(cap));
        while r.fill(&mut buf, AddressCheck::Canonical(48))? > 0 {
            all.extend_from_slice(&buf);
        }
        Ok(all)
    }

    fn encode_all(recs: &[Record], layout: Layout) -> Vec<u8> {
        let mut e = ChampSimEncoder::new(layout);
        let mut out = Vec::new();
        for r in recs {
            e.encode(r, &mut out).unwrap();
        }
        e.finish(&mut out).unwrap();
        out
    }

    #[test]
    fn a_record_is_a_fetch_then_reads_then_writes() {
        let mut b = vec![0u8; 64];
        b[..8].copy_from_slice(&0x401000u64.to_le_bytes());
        b[8] = 1;
        b[16..24].copy_from_slice(&0x7000u64.to_le_bytes());
        b[40..48].copy_from_slice(&0x5000u64.to_le_bytes());
        let recs = read_all(&b, STANDARD, 1).unwrap();
        let got: Vec<_> = recs.iter().map(|r| (r.kind, r.addr.as_u64())).collect();
        assert_eq!(
            got,
            [
                (AccessKind::Fetch, 0x401000),
                (AccessKind::Read, 0x5000),
                (AccessKind::Write, 0x7000)
            ]
        );
        assert!(looks_like(&b));
        b.truncate(63);
        let e = read_all(&b, STANDARD, 64).unwrap_err().to_string();
        assert_eq!(
            e,
            "t.champsim: record 0 (byte 0): record cut short (63 of 64 bytes)"
        );
        let mut far = vec![0u8; 64];
        far[..8].copy_from_slice(&(1u64 << 60).to_le_bytes());
        let e = read_all(&far, STANDARD, 64).unwrap_err().to_string();
        assert!(e.contains("not canonical"), "{e}");
    }

    fn record() -> impl Strategy<Value = Record> {
        (0u8..3, 1u64..1 << 47, 1u32..4).prop_map(|(k, a, pid)| Record {
            pid,
            ..Record::new(
                [AccessKind::Fetch, AccessKind::Read, AccessKind::Write][k as usize],
                a,
            )
        })
    }

    proptest! {
        /// One-byte accesses of nonzero addresses survive ChampSim: process ids too in the
        /// CloudSuite variant.
        #[test]
        fn records_round_trip(recs in proptest::collection::vec(record(), 0..300), cap in 9usize..2000) {
            for layout in [STANDARD, CLOUDSUITE] {
                let want: Vec<Record> = recs.iter().map(|r| Record {
                    pid: if layout.asid.is_some() { r.pid } else { 1 },
                    ..*r
                }).collect();
                let bytes = encode_all(&want, layout);
                prop_assert_eq!(bytes.len() % layout.size, 0);
                prop_assert_eq!(read_all(&bytes, layout, cap).unwrap(), want);
            }
        }

        /// Records in ChampSim's own shape (sources and destinations packed from the first
        /// slot, an ip in each) come back byte for byte.
        #[test]
        fn champsim_records_round_trip(
            instrs in proptest::collection::vec(
                (1u64..1 << 47, proptest::collection::vec(1u64..1 << 47, 0..=4),
                 proptest::collection::vec(1u64..1 << 47, 0..=2)), 0..100)
        ) {
            let mut bytes = Vec::new();
            for (ip, srcs, dsts) in &instrs {
                let mut b = [0u8; 64];
                b[..8].copy_from_slice(&ip.to_le_bytes());
                for (i, s) in srcs.iter().enumerate() {
                    b[32 + 8 * i..40 + 8 * i].copy_from_slice(&s.to_le_bytes());
                }
                for (i, d) in dsts.iter().enumerate() {
                    b[16 + 8 * i..24 + 8 * i].copy_from_slice(&d.to_le_bytes());
                }
                bytes.extend_from_slice(&b);
            }
            let recs = read_all(&bytes, STANDARD, 1024).unwrap();
            prop_assert_eq!(encode_all(&recs, STANDARD), bytes);
        }
    }
}
