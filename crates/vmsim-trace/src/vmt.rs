//! vmsim's compact binary trace format (`.vmt`), lossless with respect to [`Record`].
//!
//! After the 8-byte magic `VMSIMTR1`, each record is a tag byte and varints:
//! - tag bits 0..1: kind (0 read, 1 write, 2 fetch; 3 is invalid);
//! - tag bits 2..5: the size, 1..=15, or 0 when a LEB128 size follows;
//! - tag bit 6: a LEB128 pid and a LEB128 CPU follow (they changed since the last record);
//! - tag bit 7: reserved, must be 0;
//! - then the address as a zigzag LEB128 delta from the previous address *of the same kind*, so
//!   the instruction stream and the data stream each stay dense.
//!
//! The state starts at pid 1, CPU 0 and address 0 for each kind. The trace ends at a record
//! boundary; a record cut short is an error.
use crate::error::{Location, TraceError};
use crate::record::Record;
use std::io::{Read, Write};
use vmsim_core::{AccessKind, VirtAddr};

/// The file magic.
pub const MAGIC: &[u8; 8] = b"VMSIMTR1";
/// The longest record: tag, address, size, pid, CPU.
const MAX_RECORD: usize = 1 + 10 + 10 + 5 + 3;

/// The access kind of each code in a tag's bits 0..1 (code 3 is invalid).
const KINDS: [AccessKind; 3] = [AccessKind::Read, AccessKind::Write, AccessKind::Fetch];

fn kind_code(k: AccessKind) -> u8 {
    match k {
        AccessKind::Read => 0,
        AccessKind::Write => 1,
        AccessKind::Fetch => 2,
    }
}

/// Encodes records.
pub struct VmtEncoder {
    prev: [u64; 3],
    pid: u32,
    cpu: u16,
}

impl Default for VmtEncoder {
    fn default() -> Self {
        VmtEncoder {
            prev: [0; 3],
            pid: Record::DEFAULT_PID,
            cpu: 0,
        }
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

impl VmtEncoder {
    /// Appends the encoding of `r` to `out`.
    pub fn encode(&mut self, r: &Record, out: &mut Vec<u8>) {
        let k = kind_code(r.kind);
        let mut tag = k;
        if (1..=15).contains(&r.size) {
            tag |= (r.size as u8) << 2;
        }
        let ctx = r.pid != self.pid || r.cpu != self.cpu;
        if ctx {
            tag |= 1 << 6;
        }
        out.push(tag);
        if ctx {
            put_varint(out, r.pid as u64);
            put_varint(out, r.cpu as u64);
            self.pid = r.pid;
            self.cpu = r.cpu;
        }
        let a = r.addr.as_u64();
        let d = a.wrapping_sub(self.prev[k as usize]) as i64;
        put_varint(out, ((d << 1) ^ (d >> 63)) as u64);
        self.prev[k as usize] = a;
        if !(1..=15).contains(&r.size) {
            put_varint(out, r.size as u64);
        }
    }
}

/// Streams records out of a `.vmt` byte stream.
pub struct VmtReader<R> {
    inner: R,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    eof: bool,
    /// Bytes consumed before `buf[0]`.
    base: u64,
    index: u64,
    state: State,
    name: String,
}

/// What each record is a delta from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct State {
    prev: [u64; 3],
    pid: u32,
    cpu: u16,
}

impl State {
    /// Applies the zigzag address delta `z` of a record with `tag`; returns the address.
    #[inline(always)]
    fn step(&mut self, tag: u8, z: u64) -> u64 {
        let d = ((z >> 1) as i64) ^ -((z & 1) as i64);
        let k = (tag & 3) as usize;
        let addr = self.prev[k].wrapping_add(d as u64);
        self.prev[k] = addr;
        addr
    }

    #[inline(always)]
    fn record(&self, kind: AccessKind, addr: u64, size: u32) -> Record {
        Record {
            pid: self.pid,
            cpu: self.cpu,
            kind,
            addr: VirtAddr::new_unchecked(addr),
            size,
        }
    }
}

const CUT: &str = "record cut short";

/// Reads a LEB128 varint from `b` at `*p`.
#[inline(always)]
fn varint(b: &[u8], p: &mut usize) -> Result<u64, &'static str> {
    let first = *b.get(*p).ok_or(CUT)?;
    *p += 1;
    if first < 0x80 {
        return Ok(first as u64);
    }
    let mut v = (first & 0x7f) as u64;
    let mut shift = 7;
    loop {
        let x = *b.get(*p).ok_or(CUT)?;
        *p += 1;
        if shift == 63 && x > 1 {
            return Err("varint overflows 64 bits");
        }
        v |= ((x & 0x7f) as u64) << shift;
        if x & 0x80 == 0 {
            return Ok(v);
        }
        shift += 7;
        if shift > 63 {
            return Err("varint overflows 64 bits");
        }
    }
}

/// Decodes one record from the start of `b`; returns it and the bytes it used.
#[inline(always)]
fn decode(b: &[u8], st: &mut State) -> Result<(Record, usize), &'static str> {
    let tag = *b.first().ok_or(CUT)?;
    let mut p = 1;
    if tag & 0x80 != 0 {
        return Err("reserved tag bit set");
    }
    let kind = *KINDS.get((tag & 3) as usize).ok_or("invalid access kind")?;
    if tag & (1 << 6) != 0 {
        let pid = varint(b, &mut p)?;
        let cpu = varint(b, &mut p)?;
        st.pid = u32::try_from(pid).map_err(|_| "pid does not fit in 32 bits")?;
        st.cpu = u16::try_from(cpu).map_err(|_| "cpu does not fit in 16 bits")?;
    }
    let z = varint(b, &mut p)?;
    let addr = st.step(tag, z);
    let small = ((tag >> 2) & 0xf) as u32;
    let size = if small != 0 {
        small
    } else {
        u32::try_from(varint(b, &mut p)?)
            .ok()
            .filter(|&s| s > 0)
            .ok_or("size must be between 1 and 2^32-1")?
    };
    Ok((st.record(kind, addr, size), p))
}

/// For each tag byte, the size it carries when [`decode_fast`] may take the record (a valid
/// kind, the size in the tag, no context change, the reserved bit clear), else 0: one load
/// instead of a test per field.
const FAST_SIZE: [u8; 256] = {
    let mut t = [0; 256];
    let mut i = 0;
    while i < 256 {
        let tag = i as u8;
        if tag & 0xc0 == 0 && tag & 3 != 3 {
            t[i] = (tag >> 2) & 0xf;
        }
        i += 1;
    }
    t
};

/// [`KINDS`] indexed by any two bits: code 3 has no [`FAST_SIZE`], so its entry is never taken.
const FAST_KINDS: [AccessKind; 4] = [KINDS[0], KINDS[1], KINDS[2], KINDS[0]];

/// The common record, decoded without a check per byte: a small size, no context change and an
/// address varint of at most 8 bytes, read in one load. A one-byte varint (most records of a
/// real program, whose accesses stay near the previous one of their kind) is taken as it is;
/// a longer one is compacted with shifts, with no branch on its length, which varies from
/// record to record on a scattered trace. Anything else, and a `b` too short for the load, goes
/// to [`decode`]. Same results as [`decode`] on every input.
#[inline(always)]
fn decode_fast(b: &[u8], st: &mut State) -> Result<(Record, usize), &'static str> {
    let (Some(&tag), Some(window)) = (b.first(), b.get(1..).and_then(|r| r.first_chunk::<8>()))
    else {
        return decode(b, st);
    };
    let small = FAST_SIZE[tag as usize] as u32;
    if small == 0 {
        return decode(b, st);
    }
    let kind = FAST_KINDS[(tag & 3) as usize];
    let w = u64::from_le_bytes(*window);
    if w & 0x80 == 0 {
        let addr = st.step(tag, w & 0x7f);
        return Ok((st.record(kind, addr, small), 2));
    }
    let stop = !w & 0x8080_8080_8080_8080;
    if stop == 0 {
        return decode(b, st);
    }
    // Bit 7 of the varint's last byte is the lowest clear continuation bit.
    let last = stop.trailing_zeros();
    let x = w & (u64::MAX >> (63 - last)) & 0x7f7f_7f7f_7f7f_7f7f;
    let x = (x & 0x007f_007f_007f_007f) | ((x & 0x7f00_7f00_7f00_7f00) >> 1);
    let x = (x & 0x0000_3fff_0000_3fff) | ((x & 0x3fff_0000_3fff_0000) >> 2);
    let z = (x & 0x0000_0000_0fff_ffff) | ((x & 0x0fff_ffff_0000_0000) >> 4);
    let addr = st.step(tag, z);
    let used = 1 + (last as usize + 1) / 8;
    Ok((st.record(kind, addr, small), used))
}

impl<R: Read> VmtReader<R> {
    /// A reader of `inner`, which must start with the magic (checked here).
    pub fn new(mut inner: R, name: &str) -> Result<Self, TraceError> {
        crate::binary::check_magic(&mut inner, name, MAGIC, "vmt")?;
        Ok(VmtReader {
            inner,
            buf: vec![0; 1 << 16],
            pos: 0,
            end: 0,
            eof: false,
            base: 8,
            index: 0,
            state: State {
                prev: [0; 3],
                pid: Record::DEFAULT_PID,
                cpu: 0,
            },
            name: name.to_string(),
        })
    }

    fn refill(&mut self) -> Result<(), TraceError> {
        self.buf.copy_within(self.pos..self.end, 0);
        self.base += self.pos as u64;
        self.end -= self.pos;
        self.pos = 0;
        crate::binary::top_up(&mut self.inner, &mut self.buf, &mut self.end, &mut self.eof)
            .map_err(|e| TraceError::io(&self.name, self.loc(), e))
    }

    fn loc(&self) -> Location {
        Location::Record {
            index: self.index,
            offset: self.base + self.pos as u64,
        }
    }

    /// Fills `buf` (cleared first) with up to its capacity of records.
    pub fn fill(
        &mut self,
        buf: &mut Vec<Record>,
        check: crate::reader::AddressCheck,
    ) -> Result<usize, TraceError> {
        // Records are stored into a slice of the whole capacity, then the rest is cut off:
        // a push would write the length back to memory after every record. After the first
        // batch the vector keeps that length, so this resize writes nothing.
        let cap = buf.capacity().max(1);
        buf.resize(cap, Record::new(AccessKind::Read, 0));
        let mut n = 0;
        let mut st = self.state;
        let result = loop {
            if n == cap {
                break Ok(());
            }
            if self.end - self.pos < MAX_RECORD && !self.eof {
                if let Err(e) = self.refill() {
                    break Err(e);
                }
            }
            if self.pos == self.end {
                break Ok(());
            }
            if let Err(e) = self.decode_run(&mut buf[..cap], &mut n, &mut st, check) {
                break Err(e);
            }
        };
        buf.truncate(n);
        self.state = st;
        result.map(|()| n)
    }

    /// Decodes records into `out[*n..]`, while a whole record surely lies in the buffer (or,
    /// at the end of the input, while bytes remain), keeping the position in a register.
    #[inline(always)]
    fn decode_run(
        &mut self,
        out: &mut [Record],
        n: &mut usize,
        st: &mut State,
        check: crate::reader::AddressCheck,
    ) -> Result<(), TraceError> {
        let b = &self.buf[..self.end];
        let stop = if self.eof {
            self.end
        } else {
            self.end + 1 - MAX_RECORD
        };
        let mut p = self.pos;
        let first = *n;
        let mut done = 0;
        let mut failed = None;
        let fast = check.fast();
        for slot in &mut out[first..] {
            if p >= stop {
                break;
            }
            match decode_fast(&b[p..], st) {
                Ok((r, used)) => {
                    if !fast.surely_passes(r.addr.as_u64(), r.size) {
                        if let Err(e) = check.check(&r) {
                            failed = Some(e.to_string());
                            break;
                        }
                    }
                    p += used;
                    *slot = r;
                    done += 1;
                }
                Err(m) => {
                    failed = Some(m.to_string());
                    break;
                }
            }
        }
        self.pos = p;
        *n = first + done;
        self.index += done as u64;
        match failed {
            None => Ok(()),
            Some(m) => Err(TraceError::new(&self.name, self.loc(), m)),
        }
    }
}

/// Writes the magic.
pub fn write_header<W: Write>(w: &mut W) -> std::io::Result<()> {
    w.write_all(MAGIC)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Decodes `b` record by record with both decoders from the same state; they must agree on
    /// every record, every length, every error and the state after each.
    fn agree(b: &[u8], prev: [u64; 3]) -> Result<(), TestCaseError> {
        let mut fast = State {
            prev,
            pid: 1,
            cpu: 0,
        };
        let mut careful = fast;
        let mut at = 0;
        while at < b.len() {
            let f = decode_fast(&b[at..], &mut fast);
            let c = decode(&b[at..], &mut careful);
            prop_assert_eq!(f, c);
            prop_assert_eq!(fast, careful);
            match c {
                Ok((_, used)) => at += used,
                Err(_) => break,
            }
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn fast_decoder_agrees_on_any_bytes(
            b in prop::collection::vec(any::<u8>(), 0..64),
            prev in any::<[u64; 3]>(),
        ) {
            agree(&b, prev)?;
        }

        /// Real encodings: deltas of every varint length, sizes big and small, context changes.
        #[test]
        fn fast_decoder_agrees_on_encoded_records(
            recs in prop::collection::vec(
                (0u8..3, 0u32..64, any::<u64>(), 0u32..3, 1u32..20),
                1..50,
            ),
        ) {
            let mut enc = VmtEncoder::default();
            let mut out = Vec::new();
            for (k, shift, a, pid, size) in recs {
                let r = Record {
                    pid: pid + 1,
                    size,
                    ..Record::new(KINDS[k as usize], a >> shift)
                };
                enc.encode(&r, &mut out);
            }
            agree(&out, [0; 3])?;
        }
    }
}
