//! Opening a trace: pick the format (given, or detected from the first bytes without consuming
//! them) and stream records, or page references, in batches through one statically dispatched
//! reader.
use crate::cachesim_csv::CsvOptions;
use crate::champsim::ChampSimReader;
use crate::error::{Location, TraceError};
use crate::format::Format;
use crate::lines::LineReader;
use crate::objects::{Expander, KeyOptions, Object};
use crate::oracle_general::{Layout, OracleReader};
use crate::pages::PageRef;
use crate::pgt::PgtReader;
use crate::record::Record;
use crate::vmt::VmtReader;
use crate::{cachesim_csv, champsim, key_text, lackey, pages, perf_script, text};
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;
use vmsim_core::{AccessKind, PageSize};

type Input = BufReader<Box<dyn Read>>;

/// Which addresses a trace may contain. A program cannot access a non-canonical address (the
/// processor raises #GP before any translation), so such a record is malformed input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AddressCheck {
    /// Any 64-bit value.
    #[default]
    Any,
    /// Canonical for this many implemented bits (48 for 4-level paging, 57 for 5-level).
    Canonical(u8),
    /// Below 2^bits (teaching machines with small address spaces).
    Width(u8),
}

/// [`AddressCheck`] as one test without branches, for per-record loops, that passes only
/// accesses the rule passes: its first byte passes when `(a + offset) >> shift` has none of the
/// bits of `mask` (canonical for `b` bits means `a + 2^(b-1)` lies below `2^b`; fitting in `b`
/// bits means `a` does; any address passes an empty mask), and its last byte then passes too
/// when the access stays inside one 4 KiB-aligned block, because every boundary a rule draws
/// (the ends of the canonical halves, the top of a width, the wrap past 2^64) is a multiple of
/// 4 KiB. An access that crosses a block (a few in a thousand on real traces) is left to
/// [`AddressCheck::check`]: so the last byte costs no test of its own.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FastCheck {
    offset: u64,
    shift: u32,
    mask: u64,
    /// [`BLOCK`] - 1; on teaching machines whose boundaries lie inside a block, 2 * [`BLOCK`]
    /// - 1, which makes every access count as crossing (their traces are short).
    block: u64,
}

/// The block an access must stay in to skip the test of its last byte.
const BLOCK: u64 = 1 << 12;

impl FastCheck {
    /// Whether the `size`-byte access at `addr` surely passes (if not, it may still).
    #[inline(always)]
    pub(crate) fn surely_passes(self, addr: u64, size: u32) -> bool {
        let first = (addr.wrapping_add(self.offset) >> self.shift) & self.mask;
        // Inside a block exactly when the offset in it plus the size is at most BLOCK (a size
        // of 0, which means 1, too): then adding BLOCK - 1 stays below 2 * BLOCK.
        let crosses = ((addr & self.block) + u64::from(size) + self.block) / (2 * BLOCK);
        (first | crosses) == 0
    }
}

impl AddressCheck {
    /// The same rule as one branch-free test ([`AddressCheck::check`] words the failure).
    pub(crate) fn fast(self) -> FastCheck {
        // `boundary`: log2 of the finest boundary the rule draws.
        let check = |offset: u64, shift: u32, mask: u64, boundary: u32| FastCheck {
            offset,
            shift,
            mask,
            block: if 1u64.checked_shl(boundary).is_none_or(|b| b >= BLOCK) {
                BLOCK - 1
            } else {
                2 * BLOCK - 1
            },
        };
        match self {
            AddressCheck::Canonical(bits) if (1..64).contains(&bits) => {
                let b = u32::from(bits);
                check(1 << (b - 1), b, u64::MAX, b - 1)
            }
            AddressCheck::Width(bits) if bits < 64 => {
                check(0, u32::from(bits), u64::MAX, u32::from(bits))
            }
            _ => check(0, 0, 0, 64),
        }
    }

    /// Checks one record: every byte it accesses, from its address to its address plus its
    /// size less one. Whatever the rule, an access that runs past the top of the 64-bit address
    /// space (and would wrap to page 0) is refused.
    #[inline]
    pub fn check(self, r: &Record) -> Result<(), AddressError> {
        let a = r.addr.as_u64();
        let size = u64::from(r.size.max(1));
        let Some(last) = a.checked_add(size - 1) else {
            return Err(AddressError::Wraps { addr: a, size });
        };
        match self {
            AddressCheck::Any => Ok(()),
            AddressCheck::Canonical(bits) if !r.addr.is_canonical(bits) => {
                Err(AddressError::NotCanonical { addr: a, bits })
            }
            AddressCheck::Canonical(bits)
                if bits < 64 && (!is_canonical(last, bits) || (a ^ last) >> 63 != 0) =>
            {
                Err(AddressError::LeavesCanonical {
                    addr: a,
                    size,
                    last,
                    bits,
                })
            }
            AddressCheck::Width(bits) if bits < 64 && a >> bits != 0 => {
                Err(AddressError::TooWide { addr: a, bits })
            }
            AddressCheck::Width(bits) if bits < 64 && last >> bits != 0 => {
                Err(AddressError::RunsPastWidth {
                    addr: a,
                    size,
                    last,
                    bits,
                })
            }
            _ => Ok(()),
        }
    }
}

/// A record whose bytes a machine cannot address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// The access runs past 2^64 (it would wrap to page 0).
    #[error("the {size}-byte access at {addr:#x} runs past the end of the 64-bit address space")]
    Wraps {
        /// First byte.
        addr: u64,
        /// Bytes.
        size: u64,
    },
    /// The address is not canonical (the processor would raise #GP).
    #[error("address {addr:#x} is not canonical for {bits}-bit virtual addresses")]
    NotCanonical {
        /// The address.
        addr: u64,
        /// Implemented bits.
        bits: u8,
    },
    /// The access starts canonical and runs into the hole.
    #[error(
        "the {size}-byte access at {addr:#x} runs past the last canonical address for \
         {bits}-bit virtual addresses (to {last:#x})"
    )]
    LeavesCanonical {
        /// First byte.
        addr: u64,
        /// Bytes.
        size: u64,
        /// Last byte.
        last: u64,
        /// Implemented bits.
        bits: u8,
    },
    /// The address is beyond a teaching machine's width.
    #[error("address {addr:#x} does not fit in {bits}-bit virtual addresses")]
    TooWide {
        /// The address.
        addr: u64,
        /// Address width.
        bits: u8,
    },
    /// The access runs past a teaching machine's last address.
    #[error(
        "the {size}-byte access at {addr:#x} runs past the end of {bits}-bit virtual \
         addresses (to {last:#x})"
    )]
    RunsPastWidth {
        /// First byte.
        addr: u64,
        /// Bytes.
        size: u64,
        /// Last byte.
        last: u64,
        /// Address width.
        bits: u8,
    },
}

/// Bytes read before a format is guessed when nothing decides it sooner.
const HEAD_MAX: usize = 1 << 16;

/// Reads the start of `r`, at least 4 KiB unless the input ends first, until it decides the
/// format (a binary magic, or a first complete line that is not blank or a valgrind `==PID==`
/// message), the input ends, or [`HEAD_MAX`] bytes have come. A pipe hands over what the writer has written so far: valgrind writes its
/// banner long before the first access, so one read is not enough. Returns the bytes read and
/// the rest of the input.
fn read_head<R: Read>(mut r: R) -> std::io::Result<(Vec<u8>, R)> {
    let mut head = Vec::new();
    let mut chunk = [0u8; 4096];
    // At least one block, or the whole input if shorter, before the content decides: a first
    // read can return only the few bytes the codec sniffer looked at, and in a binary record
    // those may hold a newline before any zero byte, which would pass for a line of text.
    while head.len() < HEAD_MAX && (head.len() < chunk.len() || !Format::decided_by(&head)) {
        let n = match r.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        head.extend_from_slice(&chunk[..n]);
    }
    Ok((head, r))
}

fn is_canonical(a: u64, bits: u8) -> bool {
    vmsim_core::VirtAddr::new_unchecked(a).is_canonical(bits)
}

enum Inner {
    Text(LineReader<Input>),
    Lackey(LineReader<Input>),
    Vmt(VmtReader<Input>),
    Pages(LineReader<Input>),
    Pgt(PgtReader<Input>),
    ChampSim(ChampSimReader<Input>),
    Perf(LineReader<Input>),
    Oracle(OracleReader<Input>),
    Csv(LineReader<Input>),
    Keys(LineReader<Input>),
}

/// How the formats that need more than their bytes are read: libCacheSim's column options
/// and how object ids and sizes become pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReadOptions {
    /// Object ids and sizes ([`crate::objects`]).
    pub keys: KeyOptions,
    /// The csv columns ([`crate::cachesim_csv`]).
    pub csv: CsvOptions,
}

/// Requests of a cache-object format on their way to page references.
#[derive(Default)]
struct Objects {
    objs: Vec<Object>,
    at: usize,
    expander: Expander,
    /// Lines of a csv trace given to its parser (its header is line 1).
    lines: u64,
}

/// A streaming reader of any trace format.
pub struct TraceReader {
    inner: Inner,
    format: Format,
    check: AddressCheck,
    batch: Vec<Record>,
    at: usize,
    /// Page references of a page-number format on their way to records, or records on their
    /// way to page references.
    refs: Vec<PageRef>,
    recs: Vec<Record>,
    /// The next record of `recs` to turn into page references.
    rec_at: usize,
    /// The pages still to give of a record that spans more than two: (next, last, write).
    span: Option<(u64, u64, bool)>,
    /// The source's name, for errors.
    name: String,
    /// Whether a record (or page) has been given yet.
    seen: bool,
    /// Whether a trace without a single access reads as empty rather than as an error.
    allow_empty: bool,
    opts: ReadOptions,
    objects: Objects,
}

impl TraceReader {
    /// Opens `path`; `format` overrides detection, a `.pages` file is a page-number trace and a
    /// `.lackey` file is lackey's output (neither can be told from its content for sure).
    pub fn open(path: &Path, format: Option<Format>) -> Result<Self, TraceError> {
        Self::open_through(path, format, &ReadOptions::default(), |f| f)
    }

    /// Opens `path` as [`TraceReader::open`] does, with `opts`, reading the file through
    /// `through` (a progress meter counting bytes, say). The name decides the format where the
    /// content cannot ([`Format::from_file_name`], [`Format::named_over_content`]); a
    /// compressed file is recognised by its content.
    pub fn open_through<R: Read + 'static>(
        path: &Path,
        format: Option<Format>,
        opts: &ReadOptions,
        through: impl FnOnce(File) -> R,
    ) -> Result<Self, TraceError> {
        let name = path.display().to_string();
        let f = File::open(path).map_err(|e| TraceError::io(&name, Location::None, e))?;
        let named = path
            .file_name()
            .and_then(|e| e.to_str())
            .and_then(|n| Format::from_file_name(n).0)
            .filter(|f| f.named_over_content());
        Self::from_reader_with(&name, through(f), format.or(named), opts)
    }

    /// Reads from any byte stream, naming it `name` in errors.
    pub fn from_reader<R: Read + 'static>(
        name: &str,
        r: R,
        format: Option<Format>,
    ) -> Result<Self, TraceError> {
        Self::from_reader_with(name, r, format, &ReadOptions::default())
    }

    /// Reads from any byte stream with `opts`, naming it `name` in errors. A stream in zstd,
    /// xz or gzip is decompressed as it is read ([`crate::compress`]), whatever the format.
    pub fn from_reader_with<R: Read + 'static>(
        name: &str,
        r: R,
        format: Option<Format>,
        opts: &ReadOptions,
    ) -> Result<Self, TraceError> {
        let (r, _) = crate::compress::decompressing(r)
            .map_err(|e| TraceError::io(name, Location::None, e))?;
        let (format, input): (Format, Input) = match format {
            Some(f) => (f, BufReader::with_capacity(1 << 16, Box::new(r))),
            None => {
                let (head, r) =
                    read_head(r).map_err(|e| TraceError::io(name, Location::None, e))?;
                let f = Format::detect(&head);
                let input: Box<dyn Read> = Box::new(std::io::Cursor::new(head).chain(r));
                (f, BufReader::with_capacity(1 << 16, input))
            }
        };
        let inner = match format {
            Format::Text => Inner::Text(LineReader::new(input, name)),
            Format::Lackey => Inner::Lackey(LineReader::new(input, name)),
            Format::Vmt => Inner::Vmt(VmtReader::new(input, name)?),
            Format::Pages => Inner::Pages(LineReader::new(input, name)),
            Format::Pgt => Inner::Pgt(PgtReader::new(input, name)?),
            Format::ChampSim => {
                Inner::ChampSim(ChampSimReader::new(input, champsim::STANDARD, name))
            }
            Format::ChampSimCloudSuite => {
                Inner::ChampSim(ChampSimReader::new(input, champsim::CLOUDSUITE, name))
            }
            Format::Perf => Inner::Perf(LineReader::new(input, name)),
            Format::OracleGeneral => Inner::Oracle(OracleReader::new(input, Layout::Plain, name)),
            Format::OracleGeneralOpNs => {
                Inner::Oracle(OracleReader::new(input, Layout::OpNs, name))
            }
            Format::Csv => Inner::Csv(LineReader::new(input, name)),
            Format::Keys => Inner::Keys(LineReader::new(input, name)),
        };
        Ok(TraceReader {
            inner,
            format,
            check: AddressCheck::Any,
            batch: Vec::new(),
            at: 0,
            refs: Vec::new(),
            recs: Vec::new(),
            rec_at: 0,
            span: None,
            name: name.to_string(),
            seen: false,
            allow_empty: false,
            opts: *opts,
            objects: Objects::default(),
        })
    }

    /// Rejects records whose address fails `check`, naming their line or record.
    pub fn with_address_check(mut self, check: AddressCheck) -> Self {
        self.check = check;
        self
    }

    /// Reads a trace without a single access as empty. By default it is an error (`the trace
    /// holds no accesses`) at the end of the input: every statistic of an empty trace is
    /// vacuous, and an empty file is far more often a failed recording than a real trace.
    pub fn allow_empty(mut self) -> Self {
        self.allow_empty = true;
        self
    }

    /// `n` items were read: the end of a trace that gave none is an error unless allowed.
    fn counted(&mut self, n: usize) -> Result<usize, TraceError> {
        if n > 0 {
            self.seen = true;
        } else if !self.seen && !self.allow_empty {
            return Err(TraceError::new(
                &self.name,
                Location::None,
                "the trace holds no accesses",
            ));
        }
        Ok(n)
    }

    /// The format being read.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Clears `buf` and fills it with up to `buf.capacity()` records (at least one slot is
    /// used even for an empty buffer); returns how many, 0 at the end of the trace. A page
    /// reference becomes the one-byte access at its page's first byte ([`pages`]). The end of
    /// a trace that held no access is an error unless [`TraceReader::allow_empty`] was called.
    pub fn read_batch(&mut self, buf: &mut Vec<Record>) -> Result<usize, TraceError> {
        let n = self.read_batch_any(buf)?;
        self.counted(n)
    }

    fn read_batch_any(&mut self, buf: &mut Vec<Record>) -> Result<usize, TraceError> {
        if buf.capacity() < crate::lines::MAX_PER_LINE {
            buf.reserve(crate::lines::MAX_PER_LINE);
        }
        let c = self.check;
        let check = |r: &PageRef| {
            pages::to_record(r).and_then(|rec| c.check(&rec).map_err(|e| e.to_string()))
        };
        match &mut self.inner {
            Inner::Text(l) => l.fill(
                buf,
                |r| c.check(r).map_err(|e| e.to_string()),
                text::parse_line,
            ),
            Inner::Lackey(l) => l.fill(
                buf,
                |r| c.check(r).map_err(|e| e.to_string()),
                lackey::parse_line,
            ),
            Inner::Vmt(v) => v.fill(buf, c),
            Inner::Pages(l) => {
                reserve_like(&mut self.refs, buf);
                l.fill(&mut self.refs, check, pages::parse_line)?;
                buf.clear();
                buf.extend(self.refs.iter().filter_map(|r| pages::to_record(r).ok()));
                Ok(buf.len())
            }
            Inner::Pgt(p) => {
                reserve_like(&mut self.refs, buf);
                let n = p.fill(&mut self.refs)?;
                buf.clear();
                for (i, r) in self.refs.iter().enumerate() {
                    let rec = pages::to_record(r)
                        .and_then(|rec| c.check(&rec).map(|()| rec).map_err(|e| e.to_string()))
                        .map_err(|m| p.error_at(p.decoded() - (n - i) as u64, m))?;
                    buf.push(rec);
                }
                Ok(buf.len())
            }
            Inner::ChampSim(r) => r.fill(buf, c),
            Inner::Perf(l) => l.fill(
                buf,
                |r| c.check(r).map_err(|e| e.to_string()),
                perf_script::parse_line,
            ),
            Inner::Oracle(_) | Inner::Csv(_) | Inner::Keys(_) => {
                let mut refs = std::mem::take(&mut self.refs);
                reserve_like(&mut refs, buf);
                let r = self.read_object_pages(&mut refs);
                self.refs = refs;
                r?;
                buf.clear();
                for r in &self.refs {
                    let rec = pages::to_record(r)
                        .and_then(|rec| c.check(&rec).map(|()| rec).map_err(|e| e.to_string()))
                        .map_err(|m| TraceError::new(&self.name, Location::None, m))?;
                    buf.push(rec);
                }
                Ok(buf.len())
            }
        }
    }

    /// Fills `out` (cleared first) up to its capacity with the pages of a cache-object
    /// format's requests ([`crate::objects`]); 0 at the end.
    fn read_object_pages(&mut self, out: &mut Vec<PageRef>) -> Result<usize, TraceError> {
        out.clear();
        if out.capacity() == 0 {
            out.reserve(1024);
        }
        let cap = out.capacity();
        let (keys, csv) = (self.opts.keys, self.opts.csv);
        let o = &mut self.objects;
        if let (Inner::Oracle(r), false) = (&mut self.inner, keys.obj_size_pages) {
            // One page a request: straight from the bytes, as fast as `pgt`.
            return r.fill_pages(out);
        }
        loop {
            o.expander.expand(&o.objs, &mut o.at, keys, out);
            if out.len() == cap || o.expander.pending() {
                return Ok(out.len());
            }
            o.objs.clear();
            o.objs.reserve(cap);
            o.at = 0;
            let lines = &mut o.lines;
            let n = match &mut self.inner {
                Inner::Oracle(r) => r.fill(&mut o.objs)?,
                Inner::Csv(l) => l.fill(
                    &mut o.objs,
                    |_| Ok(()),
                    |line, v| {
                        *lines += 1;
                        cachesim_csv::parse_line(line, *lines, &csv, keys, v)
                    },
                )?,
                Inner::Keys(l) => l.fill(
                    &mut o.objs,
                    |_| Ok(()),
                    |line, v| key_text::parse_line(line, keys, v),
                )?,
                _ => unreachable!("only cache-object formats have objects"),
            };
            if n == 0 {
                return Ok(out.len());
            }
        }
    }

    /// Clears `out` and fills it with up to `out.capacity()` page references (at least two
    /// slots); returns how many, 0 at the end of the trace. Page-number formats give their
    /// pages as they are; an address format gives every `size` page its accesses touch, in
    /// order (two for an access that crosses one page boundary, more for a long one, as the
    /// machine replays it), a write for a store. The end of a trace that held no access is an
    /// error unless [`TraceReader::allow_empty`] was called.
    pub fn read_pages(
        &mut self,
        size: PageSize,
        out: &mut Vec<PageRef>,
    ) -> Result<usize, TraceError> {
        let n = self.read_pages_any(size, out)?;
        self.counted(n)
    }

    fn read_pages_any(
        &mut self,
        size: PageSize,
        out: &mut Vec<PageRef>,
    ) -> Result<usize, TraceError> {
        if out.capacity() < 2 * crate::lines::MAX_PER_LINE {
            out.reserve(2 * crate::lines::MAX_PER_LINE);
        }
        match &mut self.inner {
            Inner::Pages(l) => return l.fill(out, |_| Ok(()), pages::parse_line),
            Inner::Pgt(p) => return p.fill(out),
            Inner::Oracle(_) | Inner::Csv(_) | Inner::Keys(_) => {
                return self.read_object_pages(out)
            }
            _ => {}
        }
        out.clear();
        let cap = out.capacity();
        loop {
            // The rest of a record that spans many pages, as far as there is room.
            while let Some((next, last, write)) = self.span {
                if out.len() == cap {
                    return Ok(out.len());
                }
                out.push((next, write));
                self.span = (next != last).then_some((next + 1, last, write));
            }
            if self.rec_at == self.recs.len() {
                if !out.is_empty() {
                    return Ok(out.len());
                }
                let mut recs = std::mem::take(&mut self.recs);
                // Most records give one page, at most two unless they are long.
                recs.clear();
                recs.reserve(cap / 2);
                let r = self.read_batch_any(&mut recs);
                self.recs = recs;
                self.rec_at = 0;
                if r? == 0 {
                    return Ok(0);
                }
            }
            while self.rec_at < self.recs.len() && out.len() + 2 <= cap {
                let r = &self.recs[self.rec_at];
                self.rec_at += 1;
                let (first, last) = pages::span(r, size);
                let write = r.kind == AccessKind::Write;
                out.push((first, write));
                if last == first + 1 {
                    out.push((last, write));
                } else if last != first {
                    self.span = Some((first + 1, last, write));
                    break;
                }
            }
            if self.span.is_none() && out.len() + 2 > cap {
                return Ok(out.len());
            }
        }
    }
}

/// Empties `refs` and gives it room for as many items as `buf` has room for.
fn reserve_like<T, U>(refs: &mut Vec<T>, buf: &Vec<U>) {
    refs.clear();
    refs.reserve(buf.capacity());
}

impl Iterator for TraceReader {
    type Item = Result<Record, TraceError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.at == self.batch.len() {
            let mut b = std::mem::take(&mut self.batch);
            if b.capacity() == 0 {
                b.reserve(1024);
            }
            let r = self.read_batch(&mut b);
            self.batch = b;
            self.at = 0;
            match r {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => return Some(Err(e)),
            }
        }
        self.at += 1;
        Some(Ok(self.batch[self.at - 1]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Addresses near the edges that matter: around 2^(b-1) and 2^b for every b, and the top.
    fn edge_address() -> impl Strategy<Value = u64> {
        prop_oneof![
            any::<u64>(),
            (0u32..64, -3i64..3).prop_map(|(b, d)| (1u64 << b).wrapping_add(d as u64)),
            (0u32..64, -3i64..3)
                .prop_map(|(b, d)| (1u64 << b).wrapping_neg().wrapping_add(d as u64)),
        ]
    }

    proptest! {
        /// The branch-free test passes exactly the one-byte accesses the worded check passes
        /// (on machines whose boundaries are 4 KiB apart: on the others it passes none).
        #[test]
        fn fast_check_agrees_with_check(
            rule in prop_oneof![
                Just(AddressCheck::Any),
                (1u8..=64).prop_map(AddressCheck::Canonical),
                (0u8..=64).prop_map(AddressCheck::Width),
            ],
            a in edge_address(),
        ) {
            let r = Record::new(AccessKind::Read, a);
            let fast = rule.fast().surely_passes(a, 1);
            let ok = rule.check(&r).is_ok();
            match rule {
                AddressCheck::Canonical(b) if b < 13 => prop_assert!(!fast),
                AddressCheck::Width(b) if b < 12 => prop_assert!(!fast),
                _ => prop_assert_eq!(fast, ok),
            }
        }

        /// For accesses of any size, near the edges and the canonical hole: the branch-free
        /// test never passes one the worded check refuses, and decides exactly every access
        /// that stays inside one 4 KiB page (on machines of at least 13 bits).
        #[test]
        fn fast_check_agrees_with_check_for_any_size(
            rule in prop_oneof![
                Just(AddressCheck::Any),
                (1u8..=64).prop_map(AddressCheck::Canonical),
                (0u8..=64).prop_map(AddressCheck::Width),
            ],
            a in edge_address(),
            size in prop_oneof![1u32..9, any::<u32>(), Just(u32::MAX)],
        ) {
            let r = Record { size, ..Record::new(AccessKind::Read, a) };
            let ok = rule.check(&r).is_ok();
            let fast = rule.fast().surely_passes(a, size);
            prop_assert!(!fast || ok, "{:?} passes {:#x}+{} fast", rule, a, size);
            let wide = match rule {
                AddressCheck::Any => true,
                AddressCheck::Canonical(b) => b >= 13,
                AddressCheck::Width(b) => b >= 12,
            };
            let in_page = (a & 0xfff) + u64::from(size.max(1)) <= 0x1000;
            if wide && in_page {
                prop_assert_eq!(fast, ok);
            }
        }
    }
}

#[cfg(test)]
mod detection_tests {
    use super::*;
    use std::io::Read;

    /// A pipe: hands over at most one scripted chunk per read, as a writer that has written
    /// only that much so far.
    struct Chunks(Vec<Vec<u8>>);

    impl Read for Chunks {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0.is_empty() {
                return Ok(0);
            }
            let c = self.0.remove(0);
            let n = c.len().min(buf.len());
            buf[..n].copy_from_slice(&c[..n]);
            if n < c.len() {
                self.0.insert(0, c[n..].to_vec());
            }
            Ok(n)
        }
    }

    fn all(r: &mut TraceReader) -> Vec<Record> {
        let mut out = Vec::new();
        let mut buf = Vec::new();
        while r.read_batch(&mut buf).unwrap() > 0 {
            out.extend_from_slice(&buf);
        }
        out
    }

    #[test]
    fn lackey_from_a_pipe_is_detected_after_valgrinds_banner() {
        let banner =
            b"==16742== Lackey, an example Valgrind tool\n==16742== Command: ls /\n".to_vec();
        let pipe = Chunks(vec![
            banner,
            b"==16742== \n".to_vec(),
            b"I  04001".to_vec(),
            b"090,3\n L 1ffefffe10,8\n".to_vec(),
        ]);
        let mut r = TraceReader::from_reader("<stdin>", pipe, None).unwrap();
        assert_eq!(r.format(), Format::Lackey);
        let recs = all(&mut r);
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].kind, AccessKind::Fetch);
        assert_eq!(recs[1].addr.as_u64(), 0x1ffefffe10);
    }

    #[test]
    fn a_text_trace_split_across_reads_is_read_whole() {
        let pipe = Chunks(vec![
            b"# com".to_vec(),
            b"ment\nW 0x10".to_vec(),
            b"00 8\n".to_vec(),
        ]);
        let mut r = TraceReader::from_reader("<stdin>", pipe, None).unwrap();
        assert_eq!(r.format(), Format::Text);
        let recs = all(&mut r);
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0].addr.as_u64(), 0x1000);
    }

    #[test]
    fn a_vmt_magic_arriving_a_byte_at_a_time_is_recognised() {
        let mut w = crate::TraceWriter::new(Vec::new(), Format::Vmt).unwrap();
        w.write(&Record::new(AccessKind::Read, 0x1234)).unwrap();
        let bytes = w.finish().unwrap();
        let pipe = Chunks(bytes.iter().map(|&b| vec![b]).collect());
        let mut r = TraceReader::from_reader("<stdin>", pipe, None).unwrap();
        assert_eq!(r.format(), Format::Vmt);
        assert_eq!(all(&mut r).len(), 1);
    }

    #[test]
    fn the_lackey_extension_names_the_format() {
        let dir = std::env::temp_dir().join(format!("vmsim-ext-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("a.lackey");
        // Text syntax that lackey's reader refuses: named lackey, it must not be read as text.
        std::fs::write(&p, "X 1000,8\n").unwrap();
        let mut r = TraceReader::open(&p, None).unwrap();
        assert_eq!(r.format(), Format::Lackey);
        let mut buf = Vec::new();
        assert!(r.read_batch(&mut buf).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
