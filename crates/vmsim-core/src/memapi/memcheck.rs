//! A memory-API checker in the manner of Valgrind's Memcheck (Seward and Nethercote, "Using
//! Valgrind to detect undefined value errors with bit-precision", USENIX ATC 2005; the Valgrind
//! manual, ch. 4): it replays a [`Trace`] of `malloc`/`calloc`/`realloc`/`free`, loads and stores
//! over a [`ProcessHeap`] and reports use after free, double and invalid frees, accesses outside
//! a block, reads of undefined bytes (definedness is tracked per byte) and, at exit, the blocks
//! still allocated classified as Memcheck does: still reachable (a start pointer chain from a
//! named pointer), definitely lost (no pointer to it at all) or indirectly lost (pointed to only
//! from lost blocks).
//!
//! Pointers carry the block they were derived from, so a stale pointer is caught even after its
//! address has been reused (Memcheck approximates this with a quarantine of freed blocks), and an
//! access that overruns into a neighbour is caught (Memcheck uses redzones). Like Memcheck's
//! `realloc`, a reallocation always moves the block. Undefined bytes are reported when loaded
//! (Memcheck waits until they decide a branch). Only start pointers make a block reachable; a
//! block reached only through interior pointers counts as lost (Memcheck says "possibly lost").
//! A stale pointer whose address now belongs to a newer block does not keep that block
//! reachable (Memcheck's quarantine usually keeps such an address from being reused at all).

use super::memtrace::{Op, PtrExpr, Trace, Var};
use super::process_heap::{Chunk, HeapConfig, ProcessHeap, SysCall};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// Where in the trace something happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Site {
    /// 0-based operation index.
    pub op: usize,
    /// 1-based source line.
    pub line: u64,
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "op {} (line {})", self.op, self.line)
    }
}

/// The block an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BlockRef {
    /// Address returned to the program.
    pub addr: u64,
    /// Requested size.
    pub size: u64,
    /// Where it was allocated.
    pub allocated: Site,
}

impl fmt::Display for BlockRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the {}-byte block at {:#x} allocated at {}",
            self.size, self.addr, self.allocated
        )
    }
}

/// A load or a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// A read.
    Load,
    /// A write.
    Store,
}

/// The call that released (or tried to release) a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Release {
    /// `free`.
    Free,
    /// `realloc`.
    Realloc,
}

/// What went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ErrorKind {
    /// An access through a pointer into a block that has been freed.
    UseAfterFree {
        /// Load or store.
        access: Access,
        /// The freed block.
        block: BlockRef,
        /// Offset of the access in it.
        offset: i64,
        /// Bytes accessed.
        len: u64,
        /// Where it was freed.
        freed: Site,
    },
    /// An access not wholly inside its block (before its start or past its end).
    OutOfBounds {
        /// Load or store.
        access: Access,
        /// The block.
        block: BlockRef,
        /// Offset of the access (negative: before the block).
        offset: i64,
        /// Bytes accessed.
        len: u64,
    },
    /// An access to an address in no block (NULL, or never allocated).
    InvalidAddress {
        /// Load or store.
        access: Access,
        /// The address.
        addr: u64,
        /// Bytes accessed.
        len: u64,
    },
    /// A load of bytes never written (and not from `calloc`).
    UninitialisedRead {
        /// The block.
        block: BlockRef,
        /// Offset of the load.
        offset: u64,
        /// Bytes loaded.
        len: u64,
        /// First undefined byte (block offset).
        first_undefined: u64,
        /// How many of the loaded bytes are undefined.
        undefined: u64,
    },
    /// A second free of the same block.
    DoubleFree {
        /// `free` or `realloc`.
        call: Release,
        /// The block.
        block: BlockRef,
        /// The first free.
        freed: Site,
    },
    /// A free of an address inside a block but not its start.
    FreeInsideBlock {
        /// `free` or `realloc`.
        call: Release,
        /// The address passed.
        addr: u64,
        /// The block it lies in.
        block: BlockRef,
        /// Its offset there.
        offset: i64,
    },
    /// A free of an address that no allocation returned.
    FreeNotAllocated {
        /// `free` or `realloc`.
        call: Release,
        /// The address passed.
        addr: u64,
    },
}

impl ErrorKind {
    /// A short name of the error class.
    pub fn class(&self) -> &'static str {
        match self {
            ErrorKind::UseAfterFree { .. } => "use after free",
            ErrorKind::OutOfBounds { .. } => "out of bounds",
            ErrorKind::InvalidAddress { .. } => "invalid address",
            ErrorKind::UninitialisedRead { .. } => "uninitialised read",
            ErrorKind::DoubleFree { .. } => "double free",
            ErrorKind::FreeInsideBlock { .. } | ErrorKind::FreeNotAllocated { .. } => {
                "invalid free"
            }
        }
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Access::Load => "load",
            Access::Store => "store",
        })
    }
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Release::Free => "free",
            Release::Realloc => "realloc",
        })
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ErrorKind::UseAfterFree {
                access,
                block,
                offset,
                len,
                freed,
            } => write!(
                f,
                "use after free: {access} of {len} bytes at offset {offset} of {block}, freed at {freed}"
            ),
            ErrorKind::OutOfBounds {
                access,
                block,
                offset,
                len,
            } => {
                if offset < 0 {
                    write!(
                        f,
                        "out of bounds: {access} of {len} bytes starts {} bytes before {block}",
                        offset.unsigned_abs()
                    )
                } else {
                    let past = (offset as u64 + len).saturating_sub(block.size);
                    write!(
                        f,
                        "out of bounds: {access} of {len} bytes at offset {offset} runs {past} bytes past the end of {block}"
                    )
                }
            }
            ErrorKind::InvalidAddress { access, addr, len } => write!(
                f,
                "invalid address: {access} of {len} bytes at {addr:#x}, which is in no block"
            ),
            ErrorKind::UninitialisedRead {
                block,
                offset,
                len,
                first_undefined,
                undefined,
            } => write!(
                f,
                "uninitialised read: {undefined} of the {len} bytes loaded at offset {offset} are undefined (first at offset {first_undefined}) in {block}"
            ),
            ErrorKind::DoubleFree { call, block, freed } => write!(
                f,
                "double free: {call} of {block}, already freed at {freed}"
            ),
            ErrorKind::FreeInsideBlock {
                call,
                addr,
                block,
                offset,
            } => write!(
                f,
                "invalid free: {call} of {addr:#x}, {offset} bytes inside {block}"
            ),
            ErrorKind::FreeNotAllocated { call, addr } => write!(
                f,
                "invalid free: {call} of {addr:#x}, which no allocation returned"
            ),
        }
    }
}

/// An error at an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MemError {
    /// The operation.
    #[serde(flatten)]
    pub site: Site,
    /// What went wrong.
    pub error: ErrorKind,
}

/// How a block still allocated at exit is classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LeakKind {
    /// A chain of start pointers from a named pointer reaches it.
    StillReachable,
    /// Nothing points to it (it leads its group of lost blocks).
    DefinitelyLost,
    /// Only lost blocks point to it.
    IndirectlyLost,
}

impl LeakKind {
    /// The words Memcheck uses.
    pub fn name(self) -> &'static str {
        match self {
            LeakKind::StillReachable => "still reachable",
            LeakKind::DefinitelyLost => "definitely lost",
            LeakKind::IndirectlyLost => "indirectly lost",
        }
    }
}

/// A block still allocated at exit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Leak {
    /// The block.
    pub block: BlockRef,
    /// Its classification.
    pub kind: LeakKind,
}

/// A system call the allocator made, with the operation that caused it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HeapEvent {
    /// The operation.
    #[serde(flatten)]
    pub site: Site,
    /// The call.
    #[serde(flatten)]
    pub call: SysCall,
}

/// Bytes and blocks of one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Tally {
    /// Bytes.
    pub bytes: u64,
    /// Blocks.
    pub blocks: u64,
}

impl Tally {
    fn add(&mut self, bytes: u64) {
        self.bytes += bytes;
        self.blocks += 1;
    }
}

/// Totals, as Memcheck's heap and leak summaries give them, plus the heap's growth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Summary {
    /// Successful allocations (a moving realloc counts one) and their bytes.
    pub allocated: Tally,
    /// Blocks freed (realloc's release of the old block included).
    pub frees: u64,
    /// Still allocated at exit.
    pub in_use: Tally,
    /// Classified leaks.
    pub definitely_lost: Tally,
    /// Classified leaks.
    pub indirectly_lost: Tally,
    /// Classified leaks.
    pub still_reachable: Tally,
    /// Initial program break.
    pub brk_start: u64,
    /// Program break at exit (the heap top).
    pub brk_end: u64,
    /// Highest program break.
    pub brk_peak: u64,
    /// Largest amount mapped at once by mmapped chunks.
    pub mmap_peak: u64,
    /// `M_MMAP_THRESHOLD` at exit (it moves when dynamic).
    pub mmap_threshold_end: u64,
}

/// Everything the checker found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Errors in operation order.
    pub errors: Vec<MemError>,
    /// Blocks allocated at exit, in allocation order.
    pub leaks: Vec<Leak>,
    /// The allocator's brk/mmap/munmap calls.
    pub heap: Vec<HeapEvent>,
    /// Totals.
    pub summary: Summary,
}

/// Which bytes of a block hold defined values: disjoint, non-adjacent `start -> end` ranges.
#[derive(Debug, Clone, Default)]
struct Defined(BTreeMap<u64, u64>);

impl Defined {
    /// Marks `[a, b)` defined.
    fn define(&mut self, mut a: u64, mut b: u64) {
        if a >= b {
            return;
        }
        let touching: Vec<(u64, u64)> = self
            .0
            .range(..=b)
            .rev()
            .take_while(|&(_, &e)| e >= a)
            .map(|(&s, &e)| (s, e))
            .collect();
        for (s, e) in touching {
            self.0.remove(&s);
            a = a.min(s);
            b = b.max(e);
        }
        self.0.insert(a, b);
    }

    /// The first undefined byte of `[a, b)` and how many there are.
    fn undefined_in(&self, a: u64, b: u64) -> Option<(u64, u64)> {
        let mut first = None;
        let mut count = 0;
        let mut at = a;
        let start = self.0.range(..=a).next_back().map_or(a, |(&s, _)| s);
        for (&s, &e) in self.0.range(start..b) {
            if e <= at {
                continue;
            }
            if s > at {
                first.get_or_insert(at);
                count += s - at;
            }
            at = e;
            if at >= b {
                break;
            }
        }
        if at < b {
            first.get_or_insert(at);
            count += b - at;
        }
        first.map(|f| (f, count))
    }

    /// The ranges below `n`.
    fn truncated(&self, n: u64) -> Defined {
        Defined(
            self.0
                .iter()
                .filter(|&(&s, _)| s < n)
                .map(|(&s, &e)| (s, e.min(n)))
                .collect(),
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Live,
    Freed(Site),
}

#[derive(Debug, Clone)]
struct Block {
    chunk: Chunk,
    size: u64,
    allocated: Site,
    state: State,
    defined: Defined,
    /// Pointers stored in the block: offset -> value.
    pointers: BTreeMap<u64, Ptr>,
}

impl Block {
    fn as_ref(&self) -> BlockRef {
        BlockRef {
            addr: self.chunk.payload,
            size: self.size,
            allocated: self.allocated,
        }
    }

    /// Forgets stored pointers that a write of `[a, b)` overwrites.
    fn clobber(&mut self, a: u64, b: u64) {
        let hit: Vec<u64> = self
            .pointers
            .range(a.saturating_sub(7)..b)
            .map(|(&o, _)| o)
            .collect();
        for o in hit {
            self.pointers.remove(&o);
        }
    }
}

/// A pointer value and the block it was derived from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Ptr {
    addr: u64,
    block: Option<usize>,
}

const NULL: Ptr = Ptr {
    addr: 0,
    block: None,
};

/// What an address refers to.
enum Target {
    Null,
    Wild,
    Block(usize),
}

struct Checker {
    heap: ProcessHeap,
    blocks: Vec<Block>,
    live: BTreeMap<u64, usize>,
    vars: Vec<Ptr>,
    report: Report,
    calls: Vec<SysCall>,
}

impl Checker {
    fn eval(&self, e: PtrExpr) -> Ptr {
        match e {
            PtrExpr::Var {
                var: Var(v),
                offset,
            } => {
                let p = self.vars[v];
                Ptr {
                    addr: p.addr.wrapping_add_signed(offset),
                    block: p.block,
                }
            }
            PtrExpr::Literal { addr } => Ptr { addr, block: None },
        }
    }

    fn offset(&self, b: usize, addr: u64) -> i64 {
        let d = i128::from(addr) - i128::from(self.blocks[b].chunk.payload);
        d.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }

    fn target(&self, p: Ptr) -> Target {
        if let Some(b) = p.block {
            return Target::Block(b);
        }
        if p.addr == 0 {
            return Target::Null;
        }
        let inside =
            |b: &Block| p.addr >= b.chunk.payload && p.addr - b.chunk.payload < b.size.max(1);
        if let Some((_, &b)) = self.live.range(..=p.addr).next_back() {
            if inside(&self.blocks[b]) {
                return Target::Block(b);
            }
        }
        match self.blocks.iter().rposition(inside) {
            Some(b) => Target::Block(b),
            None => Target::Wild,
        }
    }

    /// The block and offset of a valid access, or the error.
    fn access(&self, p: Ptr, len: u64, access: Access) -> Result<(usize, u64), ErrorKind> {
        let b = match self.target(p) {
            Target::Block(b) => b,
            Target::Null | Target::Wild => {
                return Err(ErrorKind::InvalidAddress {
                    access,
                    addr: p.addr,
                    len,
                })
            }
        };
        let blk = &self.blocks[b];
        let offset = self.offset(b, p.addr);
        if let State::Freed(freed) = blk.state {
            return Err(ErrorKind::UseAfterFree {
                access,
                block: blk.as_ref(),
                offset,
                len,
                freed,
            });
        }
        if offset < 0
            || (offset as u64)
                .checked_add(len)
                .is_none_or(|end| end > blk.size)
        {
            return Err(ErrorKind::OutOfBounds {
                access,
                block: blk.as_ref(),
                offset,
                len,
            });
        }
        Ok((b, offset as u64))
    }

    /// The live block `p` may release (`Ok(None)` for NULL), or the error.
    fn releasable(&self, p: Ptr, call: Release) -> Result<Option<usize>, ErrorKind> {
        let b = match self.target(p) {
            Target::Null => return Ok(None),
            Target::Wild => return Err(ErrorKind::FreeNotAllocated { call, addr: p.addr }),
            Target::Block(b) => b,
        };
        let blk = &self.blocks[b];
        let offset = self.offset(b, p.addr);
        if offset != 0 {
            return Err(ErrorKind::FreeInsideBlock {
                call,
                addr: p.addr,
                block: blk.as_ref(),
                offset,
            });
        }
        match blk.state {
            State::Freed(freed) => Err(ErrorKind::DoubleFree {
                call,
                block: blk.as_ref(),
                freed,
            }),
            State::Live => Ok(Some(b)),
        }
    }

    fn flush_calls(&mut self, site: Site) {
        for call in self.calls.drain(..) {
            self.report.heap.push(HeapEvent { site, call });
        }
    }

    /// Allocates a block of `size` bytes, defined or not; NULL when the heap is exhausted.
    fn allocate(&mut self, size: u64, defined: bool, site: Site) -> Ptr {
        let chunk = self.heap.malloc(size, &mut self.calls);
        self.flush_calls(site);
        let Some(chunk) = chunk else { return NULL };
        let mut d = Defined::default();
        if defined {
            d.define(0, size);
        }
        let b = self.blocks.len();
        self.blocks.push(Block {
            chunk,
            size,
            allocated: site,
            state: State::Live,
            defined: d,
            pointers: BTreeMap::new(),
        });
        self.live.insert(chunk.payload, b);
        self.report.summary.allocated.add(size);
        Ptr {
            addr: chunk.payload,
            block: Some(b),
        }
    }

    fn release(&mut self, b: usize, site: Site) {
        let blk = &mut self.blocks[b];
        blk.state = State::Freed(site);
        blk.pointers.clear();
        self.live.remove(&blk.chunk.payload);
        self.heap.free(blk.chunk, &mut self.calls);
        self.flush_calls(site);
        self.report.summary.frees += 1;
    }

    fn step(&mut self, op: Op, site: Site) -> Result<(), ErrorKind> {
        match op {
            Op::Malloc { dst, size } => self.vars[dst.0] = self.allocate(size, false, site),
            Op::Calloc { dst, n, size } => {
                self.vars[dst.0] = match n.checked_mul(size) {
                    Some(total) => self.allocate(total, true, site),
                    None => NULL,
                }
            }
            Op::Realloc { dst, src, size } => {
                let old = self.releasable(self.eval(src), Release::Realloc);
                let old = match old {
                    Ok(o) => o,
                    Err(e) => {
                        self.vars[dst.0] = NULL;
                        return Err(e);
                    }
                };
                let Some(old) = old else {
                    self.vars[dst.0] = self.allocate(size, false, site);
                    return Ok(());
                };
                if size == 0 {
                    self.release(old, site);
                    self.vars[dst.0] = NULL;
                    return Ok(());
                }
                let new = self.allocate(size, false, site);
                if let Some(nb) = new.block {
                    let keep = size.min(self.blocks[old].size);
                    let defined = self.blocks[old].defined.truncated(keep);
                    let pointers = self.blocks[old]
                        .pointers
                        .range(..keep.saturating_sub(7))
                        .map(|(&o, &v)| (o, v))
                        .collect();
                    self.blocks[nb].defined = defined;
                    self.blocks[nb].pointers = pointers;
                    self.release(old, site);
                }
                self.vars[dst.0] = new;
            }
            Op::Free { ptr } => {
                if let Some(b) = self.releasable(self.eval(ptr), Release::Free)? {
                    self.release(b, site);
                }
            }
            Op::Load { at, len } => {
                let (b, off) = self.access(self.eval(at), len, Access::Load)?;
                let blk = &self.blocks[b];
                if let Some((first_undefined, undefined)) = blk.defined.undefined_in(off, off + len)
                {
                    return Err(ErrorKind::UninitialisedRead {
                        block: blk.as_ref(),
                        offset: off,
                        len,
                        first_undefined,
                        undefined,
                    });
                }
            }
            Op::Store { at, len } => {
                let (b, off) = self.access(self.eval(at), len, Access::Store)?;
                let blk = &mut self.blocks[b];
                blk.defined.define(off, off + len);
                blk.clobber(off, off + len);
            }
            Op::StorePtr { at, value } => {
                let (b, off) = self.access(self.eval(at), 8, Access::Store)?;
                let v = value.map_or(NULL, |e| self.eval(e));
                let blk = &mut self.blocks[b];
                blk.defined.define(off, off + 8);
                blk.clobber(off, off + 8);
                if v.addr != 0 {
                    blk.pointers.insert(off, v);
                }
            }
            Op::Assign { dst, value } => {
                self.vars[dst.0] = value.map_or(NULL, |e| self.eval(e));
            }
            Op::Exit => {}
        }
        Ok(())
    }

    /// The live block a pointer keeps reachable: one it holds the start of, unless it was
    /// derived from another (freed) block that had the same address.
    fn reaches(&self, p: Ptr) -> Option<usize> {
        let &b = self.live.get(&p.addr)?;
        match p.block {
            Some(from) if from != b => None,
            _ => Some(b),
        }
    }

    /// Classifies the live blocks (Memcheck's leak search: mark from the roots, then each
    /// unmarked block in turn leads a group of lost blocks it points to).
    fn leaks(&mut self) {
        let mut kind: BTreeMap<usize, LeakKind> = BTreeMap::new();
        let mut stack: Vec<usize> = self.vars.iter().filter_map(|&p| self.reaches(p)).collect();
        while let Some(b) = stack.pop() {
            if kind.insert(b, LeakKind::StillReachable).is_some() {
                continue;
            }
            stack.extend(
                self.blocks[b]
                    .pointers
                    .values()
                    .filter_map(|&v| self.reaches(v)),
            );
        }
        // Lost groups are led in allocation order.
        let mut order: Vec<usize> = self.live.values().copied().collect();
        order.sort_unstable();
        for &leader in &order {
            if kind.contains_key(&leader) {
                continue;
            }
            kind.insert(leader, LeakKind::DefinitelyLost);
            let mut stack = vec![leader];
            while let Some(b) = stack.pop() {
                for &v in self.blocks[b].pointers.values() {
                    let Some(c) = self.reaches(v) else { continue };
                    match kind.get(&c) {
                        None => {
                            kind.insert(c, LeakKind::IndirectlyLost);
                            stack.push(c);
                        }
                        Some(LeakKind::DefinitelyLost) if c != leader => {
                            kind.insert(c, LeakKind::IndirectlyLost);
                        }
                        _ => {}
                    }
                }
            }
        }
        let s = &mut self.report.summary;
        for (&b, &k) in &kind {
            let size = self.blocks[b].size;
            s.in_use.add(size);
            match k {
                LeakKind::StillReachable => s.still_reachable.add(size),
                LeakKind::DefinitelyLost => s.definitely_lost.add(size),
                LeakKind::IndirectlyLost => s.indirectly_lost.add(size),
            }
            self.report.leaks.push(Leak {
                block: self.blocks[b].as_ref(),
                kind: k,
            });
        }
    }
}

/// Replays `trace` over a heap with `config` and reports what a memory checker would.
pub fn check(trace: &Trace, config: HeapConfig) -> Report {
    let mut c = Checker {
        heap: ProcessHeap::new(config),
        blocks: Vec::new(),
        live: BTreeMap::new(),
        vars: vec![NULL; trace.names.len()],
        report: Report {
            errors: Vec::new(),
            leaks: Vec::new(),
            heap: Vec::new(),
            summary: Summary::default(),
        },
        calls: Vec::new(),
    };
    for (op, &(o, line)) in trace.ops.iter().enumerate() {
        let site = Site { op, line };
        if let Err(error) = c.step(o, site) {
            c.report.errors.push(MemError { site, error });
        }
        if o == Op::Exit {
            break;
        }
    }
    c.leaks();
    let s = &mut c.report.summary;
    s.brk_start = config.heap_base;
    s.brk_end = c.heap.brk();
    s.brk_peak = c.heap.peak_brk();
    s.mmap_peak = c.heap.mmapped().1;
    s.mmap_threshold_end = c.heap.config().mmap_threshold;
    c.report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memapi::memtrace::parse;
    use proptest::prelude::*;

    fn run(text: &str) -> Report {
        check(&parse(text).unwrap(), HeapConfig::default())
    }

    /// (op index, class) of each error.
    fn found(text: &str) -> Vec<(usize, &'static str)> {
        run(text)
            .errors
            .iter()
            .map(|e| (e.site.op, e.error.class()))
            .collect()
    }

    #[test]
    fn definedness_ranges() {
        let mut d = Defined::default();
        d.define(4, 8);
        d.define(12, 16);
        assert_eq!(d.undefined_in(0, 20), Some((0, 12)));
        assert_eq!(d.undefined_in(4, 8), None);
        assert_eq!(d.undefined_in(5, 14), Some((8, 4)));
        d.define(8, 12);
        assert_eq!(d.0.len(), 1, "adjacent ranges merge");
        assert_eq!(d.undefined_in(4, 16), None);
        assert_eq!(d.undefined_in(15, 17), Some((16, 1)));
        assert_eq!(d.truncated(10).undefined_in(4, 11), Some((10, 1)));
    }

    #[test]
    fn correct_programs_report_nothing() {
        let r = run("p = malloc 16\nstore p 16\nload p+8 8\nq = calloc 2 8\nload q 16\n\
                     p = realloc p 64\nload p 16\nstore p+16 = q\nfree q\nfree p\nfree null\nexit\n");
        assert_eq!(r.errors, []);
        assert_eq!(r.leaks, []);
        assert_eq!(
            r.summary.allocated,
            Tally {
                bytes: 96,
                blocks: 3
            }
        );
        assert_eq!(r.summary.frees, 3);
    }

    #[test]
    fn use_after_free_even_when_the_address_is_reused() {
        assert_eq!(
            found("p = malloc 16\nstore p 16\nfree p\nload p 4\n"),
            [(3, "use after free")]
        );
        // q reuses p's chunk; p is still stale.
        let r = run("p = malloc 16\nfree p\nq = malloc 16\nstore p+4 4\nfree q\n");
        assert_eq!(r.errors.len(), 1);
        let e = r.errors[0];
        assert_eq!(e.site, Site { op: 3, line: 4 });
        match e.error {
            ErrorKind::UseAfterFree {
                access,
                block,
                offset,
                freed,
                ..
            } => {
                assert_eq!((access, offset, freed.op), (Access::Store, 4, 1));
                assert_eq!(block.addr, 0x60_0010);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn double_and_invalid_frees() {
        assert_eq!(
            found("p = malloc 8\nfree p\nfree p\n"),
            [(2, "double free")]
        );
        let r = run("p = malloc 8\nfree p+4\nfree 0x1234\nfree p\n");
        assert_eq!(r.errors.len(), 2);
        assert!(matches!(
            r.errors[0].error,
            ErrorKind::FreeInsideBlock {
                offset: 4,
                addr: 0x60_0014,
                ..
            }
        ));
        assert_eq!(r.errors[1].site.op, 2);
        assert!(matches!(
            r.errors[1].error,
            ErrorKind::FreeNotAllocated { addr: 0x1234, .. }
        ));
        assert_eq!(r.leaks, [], "the valid free at op 3 went through");
        // A literal address of a block's inside, and realloc of a freed block.
        assert_eq!(
            found("p = malloc 32\nfree 0x600018\nq = realloc p 8\nfree p\nq = realloc p 64\n"),
            [(1, "invalid free"), (3, "double free"), (4, "double free")]
        );
    }

    #[test]
    fn out_of_bounds_past_and_before_a_block() {
        let r = run("p = malloc 10\nstore p+8 4\nload p-1 1\nstore p+6 4\nfree p\n");
        let v: Vec<(usize, i64, u64)> = r
            .errors
            .iter()
            .map(|e| match e.error {
                ErrorKind::OutOfBounds { offset, len, .. } => (e.site.op, offset, len),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(v, [(1, 8, 4), (2, -1, 1)]);
        assert_eq!(
            r.errors[0].error.to_string(),
            "out of bounds: store of 4 bytes at offset 8 runs 2 bytes past the end of the \
             10-byte block at 0x600010 allocated at op 0 (line 1)"
        );
        // Overrunning into the neighbour is still an error, and so is a NULL access.
        assert_eq!(
            found("p = malloc 8\nq = malloc 8\nstore p+24 1\nr = null\nload r 1\n"),
            [(2, "out of bounds"), (4, "invalid address")]
        );
    }

    #[test]
    fn uninitialised_reads_track_every_byte() {
        let r = run(
            "p = malloc 16\nstore p+4 4\nload p+4 4\nload p 8\nq = calloc 4 4\nload q 16\n\
                     r = realloc p 32\nload r+4 4\nload r+12 8\n",
        );
        let v: Vec<(usize, u64, u64)> = r
            .errors
            .iter()
            .map(|e| match e.error {
                ErrorKind::UninitialisedRead {
                    first_undefined,
                    undefined,
                    ..
                } => (e.site.op, first_undefined, undefined),
                other => panic!("{other:?}"),
            })
            .collect();
        // op 3 reads [0, 8): bytes 0..4 undefined; op 8 reads [12, 20) of the copy: all undefined.
        assert_eq!(v, [(3, 0, 4), (8, 12, 8)]);
    }

    #[test]
    fn leaks_are_classified_by_reachability() {
        // a: reachable from a variable; b: reachable only through a; c: no pointer at all;
        // d -> e: d lost, e only pointed to from d.
        let r = run("a = malloc 16\nb = malloc 24\nstore a+8 = b\nb = null\nc = malloc 32\n\
                     c = null\nd = malloc 40\ne = malloc 48\nstore d = e\nd = null\ne = null\nexit\n");
        let v: Vec<(u64, LeakKind)> = r.leaks.iter().map(|l| (l.block.size, l.kind)).collect();
        assert_eq!(
            v,
            [
                (16, LeakKind::StillReachable),
                (24, LeakKind::StillReachable),
                (32, LeakKind::DefinitelyLost),
                (40, LeakKind::DefinitelyLost),
                (48, LeakKind::IndirectlyLost),
            ]
        );
        assert_eq!(
            r.summary.definitely_lost,
            Tally {
                bytes: 72,
                blocks: 2
            }
        );
        assert_eq!(
            r.summary.indirectly_lost,
            Tally {
                bytes: 48,
                blocks: 1
            }
        );
        assert_eq!(
            r.summary.still_reachable,
            Tally {
                bytes: 40,
                blocks: 2
            }
        );
        // Overwriting the stored pointer loses b; a cycle of lost blocks has one leader.
        let r = run(
            "a = malloc 16\nb = malloc 24\nstore a = b\nb = null\nstore a 8\n\
                     x = malloc 8\ny = malloc 8\nstore x = y\nstore y = x\nx = null\ny = null\n",
        );
        let v: Vec<LeakKind> = r.leaks.iter().map(|l| l.kind).collect();
        assert_eq!(
            v,
            [
                LeakKind::StillReachable,
                LeakKind::DefinitelyLost,
                LeakKind::DefinitelyLost,
                LeakKind::IndirectlyLost,
            ]
        );
        // A stale pointer to a reused address keeps nothing alive; a literal address stored in
        // a reachable block does.
        let r = run(
            "p = malloc 16\nfree p\nq = malloc 16\nq = null\nr = malloc 8\nstore r = 0x600010\n",
        );
        let v: Vec<(u64, LeakKind)> = r.leaks.iter().map(|l| (l.block.addr, l.kind)).collect();
        assert_eq!(
            v,
            [
                (0x60_0010, LeakKind::StillReachable),
                (0x60_0030, LeakKind::StillReachable)
            ]
        );
        let r = run("p = malloc 16\nfree p\nq = malloc 16\nq = null\n");
        assert_eq!(r.leaks[0].kind, LeakKind::DefinitelyLost);
        // A later block pointing to an earlier lost leader demotes it.
        let r = run("x = malloc 8\nx = null\ny = malloc 8\nstore y = 0x600010\ny = null\n");
        let v: Vec<LeakKind> = r.leaks.iter().map(|l| l.kind).collect();
        assert_eq!(v, [LeakKind::IndirectlyLost, LeakKind::DefinitelyLost]);
    }

    #[test]
    fn big_requests_are_mapped_and_unmapped() {
        let r = run("p = malloc 200K\nq = malloc 100\nfree p\nfree q\n");
        let calls: Vec<(usize, SysCall)> = r.heap.iter().map(|e| (e.site.op, e.call)).collect();
        // 200K + 8 rounds to 204816; + 8 rounded up to pages: 51 pages.
        assert_eq!(
            calls,
            [
                (
                    0,
                    SysCall::Mmap {
                        addr: 0x7f00_0000_0000,
                        len: 51 * 4096
                    }
                ),
                (
                    1,
                    SysCall::Brk {
                        from: 0x60_0000,
                        to: 0x62_1000
                    }
                ),
                (
                    2,
                    SysCall::Munmap {
                        addr: 0x7f00_0000_0000,
                        len: 51 * 4096
                    }
                ),
            ]
        );
        assert_eq!(r.summary.mmap_threshold_end, 51 * 4096);
        let fixed = HeapConfig {
            mmap_threshold: 1 << 20,
            dynamic_threshold: false,
            ..HeapConfig::default()
        };
        let r = check(&parse("p = malloc 200K\n").unwrap(), fixed);
        assert!(matches!(
            r.heap[..],
            [HeapEvent {
                call: SysCall::Brk { .. },
                ..
            }]
        ));
        assert_eq!(r.summary.brk_end, 0x60_0000 + (332 << 10));
    }

    /// One step of a correct program: allocate, or initialise-then-read inside a live block,
    /// or free a live block once.
    #[derive(Debug, Clone)]
    enum Step {
        Alloc(u64, bool),
        Use(
            prop::sample::Index,
            prop::sample::Index,
            prop::sample::Index,
        ),
        Free(prop::sample::Index),
        Grow(prop::sample::Index, u64),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (1u64..300_000, any::<bool>()).prop_map(|(s, z)| Step::Alloc(s, z)),
            (
                any::<prop::sample::Index>(),
                any::<prop::sample::Index>(),
                any::<prop::sample::Index>()
            )
                .prop_map(|(a, b, c)| Step::Use(a, b, c)),
            any::<prop::sample::Index>().prop_map(Step::Free),
            (any::<prop::sample::Index>(), 1u64..200_000).prop_map(|(a, s)| Step::Grow(a, s)),
        ]
    }

    proptest! {
        /// Any text is an error or a trace, and any trace checks without a panic.
        #[test]
        fn arbitrary_traces_never_panic(lines in prop::collection::vec(
            "(p|q|r) = (malloc|calloc [0-9]{1,3}|realloc (p|q|null)) [0-9]{1,20}[KMGT]?|\
             (free|load|store) (p|q|0x[0-9a-f]{1,16})([+-][0-9]{1,20})?( [0-9]{1,20}[KT]?| = (p|q|null))?|\
             (p|q|r) = (p|q|null)", 0..40)) {
            if let Ok(t) = parse(&lines.join("\n")) {
                let _ = check(&t, HeapConfig::default());
                let _ = check(&t, HeapConfig { mmap_threshold: u64::MAX, dynamic_threshold: false, ..HeapConfig::default() });
            }
        }

        /// Any text at all.
        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,300}") {
            if let Ok(t) = parse(&s) {
                let _ = check(&t, HeapConfig::default());
            }
        }

        /// Random correct programs (allocate, store then load inside bounds, realloc, free
        /// each block once, free everything before exit) report no errors and no leaks.
        #[test]
        fn correct_programs_are_clean(steps in prop::collection::vec(step(), 1..60),
                                      threshold in prop::sample::select(vec![4096u64, 128 << 10, 1 << 20])) {
            let mut text = String::new();
            let mut live: Vec<(usize, u64)> = Vec::new();
            let mut next = 0;
            for s in steps {
                match s {
                    Step::Alloc(size, zeroed) => {
                        if zeroed {
                            text += &format!("v{next} = calloc 1 {size}\nload v{next} {size}\n");
                        } else {
                            text += &format!("v{next} = malloc {size}\n");
                        }
                        live.push((next, size));
                        next += 1;
                    }
                    Step::Use(which, at, len) if !live.is_empty() => {
                        let (v, size) = live[which.index(live.len())];
                        let off = at.index(size as usize) as u64;
                        let n = 1 + len.index((size - off) as usize) as u64;
                        text += &format!("store v{v}+{off} {n}\nload v{v}+{off} {n}\n");
                    }
                    Step::Free(which) if !live.is_empty() => {
                        let (v, _) = live.swap_remove(which.index(live.len()));
                        text += &format!("free v{v}\n");
                    }
                    Step::Grow(which, new) if !live.is_empty() => {
                        let i = which.index(live.len());
                        let (v, size) = live[i];
                        text += &format!("store v{v} {size}\nv{v} = realloc v{v} {new}\nload v{v} {}\n", size.min(new));
                        live[i].1 = new;
                    }
                    _ => {}
                }
            }
            for (v, _) in live {
                text += &format!("free v{v}\n");
            }
            text += "exit\n";
            let config = HeapConfig { mmap_threshold: threshold, dynamic_threshold: false, ..HeapConfig::default() };
            let r = check(&parse(&text).unwrap(), config);
            prop_assert_eq!(r.errors, vec![], "{}", text);
            prop_assert_eq!(r.leaks, vec![]);
            prop_assert_eq!(r.summary.allocated.blocks, r.summary.frees);
            // Every mapping was unmapped.
            let maps = r.heap.iter().filter(|e| matches!(e.call, SysCall::Mmap { .. })).count();
            let unmaps = r.heap.iter().filter(|e| matches!(e.call, SysCall::Munmap { .. })).count();
            prop_assert_eq!(maps, unmaps);
        }
    }
}
