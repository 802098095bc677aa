//! The operating system's side of contiguous allocation (OSTEP ch. 15 and 16): processes whose
//! segments (under segmentation) or whole address spaces (under base and bounds) are placed in
//! a [`SegmentMemory`], context switches that save the running process's registers into its
//! process structure and load the next one's, and compaction that moves regions and rewrites
//! their base registers, paying for every byte copied. Under base and bounds a move copies the
//! unused middle of the address space too.
//!
//! Under segmentation a process may share another's segment (OSTEP ch. 16 §16.4, "support for
//! sharing"): its segment register points at the same region, with protection bits that may be
//! narrower than the holder's but never wider, so a sharer can write only where the process it
//! shares from can. The region is freed with its last holder, and compaction moves it once
//! and rewrites every holder's base register.

use crate::access::AccessKind;
use crate::addr::{PhysAddr, VirtAddr};
use crate::alloc::freelist::Fit;
use crate::alloc::segment_memory::{Compaction, Owner, Release, SegmentMemory};
use crate::kernel::vma::Prot;
use crate::translate::base_bounds::{BaseBounds, Layout};
use crate::translate::segmentation::{Segment, Segmentation, Selector};
use crate::translate::{Translate, TranslateFault};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::Serialize;

/// The segments a process may have, by number: the top two bits of an address select one.
pub const SEGMENT_NAMES: [&str; 4] = ["code", "heap", "data", "stack"];

/// The registers of a process whose address space is not placed: every address faults.
const UNPLACED: BaseBounds = BaseBounds { base: 0, bounds: 0 };

/// Segment number of the stack (it grows down).
const STACK: usize = 3;

/// Segment `seg`'s register of a process that has no such segment: code is read-execute, the
/// others read-write, the stack grows down.
fn unplaced_segment(seg: usize) -> Segment {
    match seg {
        0 => {
            let mut s = Segment::up(0, 0);
            s.set_prot(Prot::RX);
            s
        }
        STACK => Segment::down(0, 0),
        _ => Segment::up(0, 0),
    }
}

/// How processes are placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum Mode {
    /// Each segment is its own region; addresses of `va_bits` bits, the top two selecting it.
    Segmentation {
        /// Virtual-address width.
        va_bits: u8,
    },
    /// The whole address space of `asize` bytes is one region.
    BaseBounds {
        /// Address-space size.
        asize: u64,
    },
}

impl Mode {
    /// The largest segment an address can reach (under base and bounds, the whole space).
    pub fn max_segment(self) -> u64 {
        match self {
            Mode::Segmentation { va_bits } => 1u64 << (va_bits - 2),
            Mode::BaseBounds { asize } => asize,
        }
    }
}

/// One step of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// Process `pid` gets segment `seg` of `size` bytes.
    Alloc {
        /// Process.
        pid: usize,
        /// Segment number.
        seg: usize,
        /// Bytes.
        size: u64,
    },
    /// Process `pid` gives up segment `seg`.
    Free {
        /// Process.
        pid: usize,
        /// Segment number.
        seg: usize,
    },
    /// Process `pid` exits: everything it has is freed.
    Exit {
        /// Process.
        pid: usize,
    },
    /// Process `pid`'s segment `seg` maps the region of process `from`'s segment `from_seg`
    /// (segmentation only).
    Share {
        /// The sharer.
        pid: usize,
        /// Its segment.
        seg: usize,
        /// The process shared from.
        from: usize,
        /// Its segment.
        from_seg: usize,
        /// The sharer's protection; `None`: the same as `from`'s.
        prot: Option<Prot>,
    },
}

/// What a step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// A region was placed at `start` (a segment, or a whole address space on a process's
    /// first allocation under base and bounds).
    Placed {
        /// Physical start.
        start: u64,
    },
    /// A segment was added inside an address space already placed.
    Grown,
    /// No hole is large enough, though `free` bytes are free.
    NoFit {
        /// Bytes needed.
        need: u64,
        /// Bytes free in all.
        free: u64,
        /// The largest hole.
        largest: u64,
    },
    /// Base and bounds: the segment does not fit in the address space.
    AddressSpaceFull {
        /// Bytes the layout would need.
        need: u64,
    },
    /// The segment exists already.
    AlreadyAllocated,
    /// The segment (or process) has nothing to free.
    NotAllocated,
    /// Freed.
    Freed,
    /// The segment now maps the region at `start`, with protection `prot`.
    Shared {
        /// Physical start.
        start: u64,
        /// The sharer's protection.
        prot: Prot,
    },
    /// The protection asked for grants a right the segment shared from does not.
    WiderThanOwner {
        /// The segment shared from.
        owner: Prot,
        /// Asked for.
        asked: Prot,
    },
    /// Base and bounds has no segments to share.
    NoSegments,
    /// The process let go of its share; `holders` others keep the region.
    Unshared {
        /// Holders left.
        holders: usize,
    },
}

/// A process structure: the saved registers and what the process has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Process {
    /// Name.
    pub name: String,
    /// Segment sizes (0: none).
    pub sizes: [u64; 4],
    /// Saved segment registers (segmentation).
    pub segments: Segmentation,
    /// Saved base and bounds (base and bounds), once the address space is placed.
    pub bb: Option<BaseBounds>,
}

/// The registers of the CPU: those of the process running.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Registers {
    /// Segment base and size registers.
    Segments(Vec<Segment>),
    /// Base and bounds.
    BaseBounds(BaseBounds),
}

/// Context-switch counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Switches {
    /// Context switches.
    pub switches: u64,
    /// Registers saved into process structures.
    pub register_saves: u64,
    /// Registers loaded from them.
    pub register_restores: u64,
}

/// The system.
#[derive(Debug, Clone)]
pub struct ContiguousOs {
    mode: Mode,
    memory: SegmentMemory,
    procs: Vec<Process>,
    running: Option<usize>,
    cpu: Option<Registers>,
    switches: Switches,
}

impl ContiguousOs {
    /// `memory` bytes placed by `fit`, processes named `names`.
    pub fn new(mode: Mode, memory: u64, fit: Fit, names: &[String]) -> Self {
        let va_bits = match mode {
            Mode::Segmentation { va_bits } => va_bits,
            Mode::BaseBounds { .. } => 16,
        };
        let procs = names
            .iter()
            .map(|name| {
                let segments = (0..SEGMENT_NAMES.len()).map(unplaced_segment).collect();
                Process {
                    name: name.clone(),
                    sizes: [0; 4],
                    segments: Segmentation {
                        segments,
                        selector: Selector::TopBits { va_bits, bits: 2 },
                    },
                    bb: None,
                }
            })
            .collect();
        ContiguousOs {
            mode,
            memory: SegmentMemory::new(memory, fit),
            procs,
            running: None,
            cpu: None,
            switches: Switches::default(),
        }
    }

    /// The placement mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Physical memory.
    pub fn memory(&self) -> &SegmentMemory {
        &self.memory
    }

    /// Physical memory, to write contents.
    pub fn memory_mut(&mut self) -> &mut SegmentMemory {
        &mut self.memory
    }

    /// The process structures.
    pub fn processes(&self) -> &[Process] {
        &self.procs
    }

    /// The process running and the registers loaded in the CPU.
    pub fn cpu(&self) -> (Option<usize>, Option<&Registers>) {
        (self.running, self.cpu.as_ref())
    }

    /// Context-switch counts so far.
    pub fn switches(&self) -> Switches {
        self.switches
    }

    /// Registers one process has.
    fn registers_per_process(&self) -> u64 {
        match self.mode {
            Mode::Segmentation { .. } => 2 * SEGMENT_NAMES.len() as u64,
            Mode::BaseBounds { .. } => BaseBounds::REGISTERS,
        }
    }

    fn registers_of(&self, pid: usize) -> Registers {
        match self.mode {
            Mode::Segmentation { .. } => {
                Registers::Segments(self.procs[pid].segments.segments.clone())
            }
            Mode::BaseBounds { .. } => {
                Registers::BaseBounds(self.procs[pid].bb.unwrap_or(UNPLACED))
            }
        }
    }

    /// Runs `pid`: saves the running process's registers into its structure, loads `pid`'s.
    pub fn switch_to(&mut self, pid: usize) {
        if self.running == Some(pid) {
            return;
        }
        let n = self.registers_per_process();
        if let (Some(old), Some(regs)) = (self.running, self.cpu.take()) {
            match regs {
                Registers::Segments(s) => self.procs[old].segments.segments = s,
                Registers::BaseBounds(b) => {
                    if let Some(saved) = &mut self.procs[old].bb {
                        *saved = b;
                    }
                }
            }
            self.switches.register_saves += n;
        }
        self.cpu = Some(self.registers_of(pid));
        self.running = Some(pid);
        self.switches.register_restores += n;
        self.switches.switches += 1;
    }

    /// The mechanism that translates `pid`'s addresses (its saved registers).
    pub fn mechanism(&self, pid: usize) -> &dyn Translate {
        match self.mode {
            Mode::Segmentation { .. } => &self.procs[pid].segments,
            Mode::BaseBounds { .. } => self.procs[pid].bb.as_ref().unwrap_or(&UNPLACED),
        }
    }

    /// Translates `va` of process `pid`.
    pub fn translate(
        &self,
        pid: usize,
        va: VirtAddr,
        kind: AccessKind,
    ) -> Result<PhysAddr, TranslateFault> {
        self.mechanism(pid).translate(va, kind)
    }

    /// `pid`'s base-and-bounds layout (meaningful in that mode).
    pub fn layout(&self, pid: usize) -> Layout {
        let s = self.procs[pid].sizes;
        Layout {
            size: match self.mode {
                Mode::BaseBounds { asize } if self.procs[pid].bb.is_some() => asize,
                _ => s.iter().sum(),
            },
            code: s[0],
            heap: s[1] + s[2],
            stack: s[STACK],
        }
    }

    fn no_fit(&self, need: u64) -> Outcome {
        let f = self.memory.free_list();
        Outcome::NoFit {
            need,
            free: f.iter().map(|h| h.1).sum(),
            largest: f.iter().map(|h| h.1).max().unwrap_or(0),
        }
    }

    /// Carries out `op` in its process (switching to it first).
    pub fn apply(&mut self, op: Op) -> Outcome {
        let pid = match op {
            Op::Alloc { pid, .. }
            | Op::Free { pid, .. }
            | Op::Exit { pid }
            | Op::Share { pid, .. } => pid,
        };
        self.switch_to(pid);
        let outcome = match (self.mode, op) {
            (Mode::Segmentation { .. }, Op::Alloc { seg, size, .. }) => {
                if self.procs[pid].sizes[seg] != 0 {
                    Outcome::AlreadyAllocated
                } else {
                    match self.memory.place(
                        Owner {
                            pid,
                            seg: Some(seg),
                        },
                        size,
                    ) {
                        Some(start) => {
                            self.procs[pid].sizes[seg] = size;
                            self.procs[pid].segments.segments[seg].place(start, size);
                            Outcome::Placed { start }
                        }
                        None => self.no_fit(size),
                    }
                }
            }
            (Mode::Segmentation { .. }, Op::Free { seg, .. }) => match self.release(pid, seg) {
                Release::NotHeld => Outcome::NotAllocated,
                Release::Freed => Outcome::Freed,
                Release::StillShared { holders } => Outcome::Unshared { holders },
            },
            (Mode::Segmentation { .. }, Op::Exit { .. }) => {
                let released: Vec<Release> = (0..SEGMENT_NAMES.len())
                    .map(|seg| self.release(pid, seg))
                    .collect();
                if released.iter().all(|&r| r == Release::NotHeld) {
                    Outcome::NotAllocated
                } else {
                    Outcome::Freed
                }
            }
            (
                Mode::Segmentation { .. },
                Op::Share {
                    seg,
                    from,
                    from_seg,
                    prot,
                    ..
                },
            ) => self.share(pid, seg, from, from_seg, prot),
            (Mode::BaseBounds { .. }, Op::Share { .. }) => Outcome::NoSegments,
            (Mode::BaseBounds { asize }, Op::Alloc { seg, size, .. }) => {
                let used: u64 = self.procs[pid].sizes.iter().sum();
                if self.procs[pid].sizes[seg] != 0 {
                    Outcome::AlreadyAllocated
                } else if used.saturating_add(size) > asize {
                    Outcome::AddressSpaceFull {
                        need: used.saturating_add(size),
                    }
                } else if self.procs[pid].bb.is_some() {
                    self.procs[pid].sizes[seg] = size;
                    Outcome::Grown
                } else {
                    match self.memory.place(Owner { pid, seg: None }, asize) {
                        Some(start) => {
                            let p = &mut self.procs[pid];
                            p.sizes[seg] = size;
                            p.bb = Some(BaseBounds {
                                base: start,
                                bounds: asize,
                            });
                            Outcome::Placed { start }
                        }
                        None => self.no_fit(asize),
                    }
                }
            }
            (Mode::BaseBounds { .. }, Op::Free { seg, .. }) => {
                if self.procs[pid].sizes[seg] == 0 {
                    Outcome::NotAllocated
                } else {
                    // The space stays allocated: it is one piece.
                    self.procs[pid].sizes[seg] = 0;
                    Outcome::Freed
                }
            }
            (Mode::BaseBounds { .. }, Op::Exit { .. }) => {
                let p = &mut self.procs[pid];
                p.sizes = [0; 4];
                p.bb = None;
                if self.memory.release(Owner { pid, seg: None }) != Release::NotHeld {
                    Outcome::Freed
                } else {
                    Outcome::NotAllocated
                }
            }
        };
        // The OS changed the running process's registers: reload them.
        self.cpu = Some(self.registers_of(pid));
        if matches!(op, Op::Exit { .. }) {
            self.running = None;
            self.cpu = None;
        }
        outcome
    }

    /// Drops `pid`'s hold on segment `seg` and clears its register.
    fn release(&mut self, pid: usize, seg: usize) -> Release {
        let r = self.memory.release(Owner {
            pid,
            seg: Some(seg),
        });
        if r != Release::NotHeld {
            self.procs[pid].sizes[seg] = 0;
            self.procs[pid].segments.segments[seg] = unplaced_segment(seg);
        }
        r
    }

    /// Points `pid`'s segment `seg` at the region of `from`'s segment `from_seg`.
    fn share(
        &mut self,
        pid: usize,
        seg: usize,
        from: usize,
        from_seg: usize,
        prot: Option<Prot>,
    ) -> Outcome {
        let holder = Owner {
            pid: from,
            seg: Some(from_seg),
        };
        if self.procs[pid].sizes[seg] != 0 {
            return Outcome::AlreadyAllocated;
        }
        if self.memory.region(holder).is_none() {
            return Outcome::NotAllocated;
        }
        let owner = self.procs[from].segments.segments[from_seg].prot();
        let prot = prot.unwrap_or(owner);
        if !prot.within(owner) {
            return Outcome::WiderThanOwner { owner, asked: prot };
        }
        let sharer = Owner {
            pid,
            seg: Some(seg),
        };
        match self.memory.share(holder, sharer) {
            Some((start, size)) => {
                self.procs[pid].sizes[seg] = size;
                let s = &mut self.procs[pid].segments.segments[seg];
                s.place(start, size);
                s.set_prot(prot);
                Outcome::Shared { start, prot }
            }
            None => Outcome::AlreadyAllocated,
        }
    }

    /// Compacts memory and rewrites the base register of every region moved, for each of its
    /// holders (in its process structure, and in the CPU for the process running).
    pub fn compact(&mut self) -> Compaction {
        let c = self.memory.compact();
        for m in &c.moves {
            for h in std::iter::once(&m.owner).chain(&m.sharers) {
                let p = &mut self.procs[h.pid];
                match h.seg {
                    Some(seg) => p.segments.segments[seg].place(m.to, m.bytes),
                    None => {
                        if let Some(b) = &mut p.bb {
                            b.base = m.to;
                        }
                    }
                }
            }
        }
        if let Some(pid) = self.running {
            self.cpu = Some(self.registers_of(pid));
        }
        c
    }
}

/// A seeded run: `steps` operations over `procs` processes, allocating segments of 1 to `max`
/// bytes (about two in three steps) or freeing one, with an occasional exit, and now and then
/// a process sharing another's segment of the same number, read-only half the time.
pub fn generate(seed: u64, steps: usize, procs: usize, max: u64) -> Vec<Op> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    // The protection each process's segments have, as the generator expects them.
    let mut has: Vec<[Option<Prot>; 4]> = vec![[None; 4]; procs];
    let mut ops = Vec::with_capacity(steps);
    while ops.len() < steps && procs > 0 && max > 0 {
        let pid = rng.gen_range(0..procs);
        let seg = rng.gen_range(0..SEGMENT_NAMES.len());
        let r = rng.gen_range(0..13);
        if r < 8 && has[pid][seg].is_none() {
            has[pid][seg] = Some(unplaced_segment(seg).prot());
            ops.push(Op::Alloc {
                pid,
                seg,
                size: rng.gen_range(1..=max),
            });
        } else if r < 11 && has[pid][seg].is_some() {
            has[pid][seg] = None;
            ops.push(Op::Free { pid, seg });
        } else if r == 11 && has[pid].iter().any(Option::is_some) {
            has[pid] = [None; 4];
            ops.push(Op::Exit { pid });
        } else if r == 12 && has[pid][seg].is_none() {
            let from: Vec<usize> = (0..procs)
                .filter(|&q| q != pid && has[q][seg].is_some())
                .collect();
            if from.is_empty() {
                continue;
            }
            let from = from[rng.gen_range(0..from.len())];
            let mut prot = has[from][seg].unwrap_or_default();
            if rng.gen_bool(0.5) {
                prot.write = false;
            }
            has[pid][seg] = Some(prot);
            ops.push(Op::Share {
                pid,
                seg,
                from,
                from_seg: seg,
                prot: Some(prot),
            });
        }
    }
    ops
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn names(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| ((b'A' + i as u8) as char).to_string())
            .collect()
    }

    fn read(os: &ContiguousOs, pid: usize, va: u64) -> Option<u8> {
        let pa = os
            .translate(pid, VirtAddr::new_unchecked(va), AccessKind::Read)
            .ok()?;
        Some(os.memory().bytes()[pa.as_u64() as usize])
    }

    #[test]
    fn segments_leave_holes_and_compaction_closes_them() {
        // 16 KiB; A code 2K, A heap 3K, B code 4K, A stack 1K; free A heap.
        let mut os = ContiguousOs::new(
            Mode::Segmentation { va_bits: 14 },
            16 << 10,
            Fit::First,
            &names(2),
        );
        let ops = [
            alloc(0, 0, 2048),
            alloc(0, 1, 3072),
            alloc(1, 0, 4096),
            alloc(0, 3, 1024),
            Op::Free { pid: 0, seg: 1 },
        ];
        let out: Vec<Outcome> = ops.iter().map(|&o| os.apply(o)).collect();
        assert_eq!(
            out,
            [
                Outcome::Placed { start: 0 },
                Outcome::Placed { start: 2048 },
                Outcome::Placed { start: 5120 },
                Outcome::Placed { start: 9216 },
                Outcome::Freed,
            ]
        );
        // Holes [2048, 5120) and [10240, 16384): 3072 + 6144 free, 1 - 6144/9216 = 1/3.
        assert_eq!(os.memory().free_list(), &[(2048, 3072), (10240, 6144)]);
        assert!((os.memory().fragmentation() - 1.0 / 3.0).abs() < 1e-12);
        // A A B A A: three switches; each restores 8 registers, and all but the first save 8.
        assert_eq!(
            os.switches(),
            Switches {
                switches: 3,
                register_saves: 16,
                register_restores: 24
            }
        );
        // A's stack: virtual 0x3fff is offset -1, physical 10239 before; write a marker.
        let pa = os
            .translate(0, VirtAddr::new_unchecked(0x3fff), AccessKind::Write)
            .unwrap();
        assert_eq!(pa.as_u64(), 10239);
        os.memory_mut().bytes_mut()[10239] = 0xab;
        let c = os.compact();
        // B's code moves 5120 -> 2048 (4096 bytes), A's stack 9216 -> 6144 (1024).
        assert_eq!(c.bytes_copied, 5120);
        assert_eq!(c.moves.len(), 2);
        assert_eq!(os.processes()[0].segments.segments[3].base, 7168);
        assert_eq!(read(&os, 0, 0x3fff), Some(0xab));
        assert_eq!(os.memory().free_list(), &[(7168, 9216)]);
        assert_eq!(os.memory().fragmentation(), 0.0);
        // A is running: its CPU registers were rewritten too.
        assert_eq!(
            os.cpu(),
            (
                Some(0),
                Some(&Registers::Segments(
                    os.processes()[0].segments.segments.clone()
                ))
            )
        );
    }

    /// Process `pid`'s segment `seg` shares `from`'s of the same number.
    fn share(pid: usize, seg: usize, from: usize, prot: Option<Prot>) -> Op {
        Op::Share {
            pid,
            seg,
            from,
            from_seg: seg,
            prot,
        }
    }

    fn shared(start: u64, prot: Prot) -> Outcome {
        Outcome::Shared { start, prot }
    }

    fn seg_os(procs: usize) -> ContiguousOs {
        ContiguousOs::new(
            Mode::Segmentation { va_bits: 14 },
            16 << 10,
            Fit::First,
            &names(procs),
        )
    }

    /// A holder as (pid, segment).
    type Held = (usize, usize);

    /// (start, size, owner, sharers) of each map region.
    fn map(os: &ContiguousOs) -> Vec<(u64, u64, Option<Held>, Vec<Held>)> {
        let ps = |o: Owner| (o.pid, o.seg.unwrap_or(9));
        os.memory()
            .map()
            .into_iter()
            .map(|r| {
                (
                    r.start,
                    r.size,
                    r.owner.map(ps),
                    r.sharers.into_iter().map(ps).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn a_shared_segment_outlives_its_owner() {
        let mut os = seg_os(3);
        let steps = [
            (alloc(0, 0, 2048), Outcome::Placed { start: 0 }),
            (alloc(1, 1, 1024), Outcome::Placed { start: 2048 }),
            (share(1, 0, 0, None), shared(0, Prot::RX)),
            (share(2, 0, 0, Some(Prot::R)), shared(0, Prot::R)),
            (share(2, 0, 0, None), Outcome::AlreadyAllocated),
            (share(2, 1, 0, None), Outcome::NotAllocated),
            // A exits: its code region stays, held by B (now listed as its owner) and C.
            (Op::Exit { pid: 0 }, Outcome::Freed),
        ];
        for (op, want) in steps {
            assert_eq!(os.apply(op), want, "{op:?}");
        }
        assert_eq!(
            map(&os),
            [
                (0, 2048, Some((1, 0)), vec![(2, 0)]),
                (2048, 1024, Some((1, 1)), vec![]),
                (3072, 13312, None, vec![]),
            ]
        );
        assert_eq!(os.processes()[2].segments.segments[0].prot(), Prot::R);
        assert_eq!(
            os.apply(Op::Free { pid: 1, seg: 0 }),
            Outcome::Unshared { holders: 1 }
        );
        assert_eq!(os.memory().free_list(), &[(3072, 13312)]);
        // The last holder frees it, and its register is back to an empty read-execute code.
        assert_eq!(os.apply(Op::Exit { pid: 2 }), Outcome::Freed);
        assert_eq!(os.memory().free_list(), &[(0, 2048), (3072, 13312)]);
        assert_eq!(os.processes()[2].segments.segments[0], unplaced_segment(0));
        assert_eq!(
            os.translate(2, VirtAddr::new_unchecked(0), AccessKind::Fetch),
            Err(TranslateFault::SegmentViolation {
                segment: 0,
                offset: 0,
                size: 0
            })
        );
    }

    #[test]
    fn compaction_moves_a_shared_region_once() {
        // A heap 1K at 0, A code 2K at 1K shared by B and C; A's heap freed leaves [0, 1K).
        let mut os = seg_os(3);
        for op in [
            alloc(0, 1, 1024),
            alloc(0, 0, 2048),
            share(1, 0, 0, None),
            share(2, 0, 0, Some(Prot::R)),
            Op::Free { pid: 0, seg: 1 },
        ] {
            os.apply(op);
        }
        os.memory_mut().bytes_mut()[1024 + 7] = 0x5a;
        let c = os.compact();
        // One move of 2048 bytes, not three.
        assert_eq!(c.bytes_copied, 2048);
        assert_eq!(c.moves.len(), 1);
        let o = |pid| Owner { pid, seg: Some(0) };
        assert_eq!(
            (c.moves[0].owner, c.moves[0].sharers.clone()),
            (o(0), vec![o(1), o(2)])
        );
        for pid in 0..3 {
            assert_eq!(os.processes()[pid].segments.segments[0].base, 0, "{pid}");
            assert_eq!(read(&os, pid, 7), Some(0x5a), "{pid}");
        }
        assert_eq!(os.memory().free_list(), &[(2048, 14336)]);
    }

    #[test]
    fn a_store_through_a_writable_share_is_seen_and_a_read_only_share_faults() {
        let mut os = seg_os(4);
        for (op, want) in [
            (alloc(0, 1, 1024), Outcome::Placed { start: 0 }),
            (share(1, 1, 0, None), shared(0, Prot::RW)),
            (share(2, 1, 0, Some(Prot::R)), shared(0, Prot::R)),
            // C may not hand on a right it lacks, nor B gain execute.
            (
                share(3, 1, 2, Some(Prot::RW)),
                Outcome::WiderThanOwner {
                    owner: Prot::R,
                    asked: Prot::RW,
                },
            ),
            (
                share(3, 1, 1, Some(Prot::RWX)),
                Outcome::WiderThanOwner {
                    owner: Prot::RW,
                    asked: Prot::RWX,
                },
            ),
        ] {
            assert_eq!(os.apply(op), want, "{op:?}");
        }
        // Heap offset 5 is virtual 0x1005 in every process; B stores through its share.
        let va = VirtAddr::new_unchecked(0x1005);
        let pa = os.translate(1, va, AccessKind::Write).unwrap();
        assert_eq!(pa.as_u64(), 5);
        os.memory_mut().bytes_mut()[pa.as_u64() as usize] = 0x42;
        assert_eq!(read(&os, 0, 0x1005), Some(0x42));
        assert_eq!(read(&os, 2, 0x1005), Some(0x42));
        assert_eq!(
            os.translate(2, va, AccessKind::Write),
            Err(TranslateFault::SegmentProtection { segment: 1 })
        );
        let mut bb = ContiguousOs::new(
            Mode::BaseBounds { asize: 1024 },
            4096,
            Fit::First,
            &names(2),
        );
        bb.apply(alloc(0, 0, 10));
        assert_eq!(bb.apply(share(1, 0, 0, None)), Outcome::NoSegments);
    }

    /// Segment `seg` of `size` bytes for process `pid`.
    fn alloc(pid: usize, seg: usize, size: u64) -> Op {
        Op::Alloc { pid, seg, size }
    }

    #[test]
    fn base_and_bounds_wastes_the_middle_and_copies_it() {
        // 4 KiB address spaces in 12 KiB: A and B placed, A exits, C placed in A's hole.
        let mut os = ContiguousOs::new(
            Mode::BaseBounds { asize: 4096 },
            12 << 10,
            Fit::Best,
            &names(3),
        );
        let steps = [
            (alloc(0, 0, 1000), Outcome::Placed { start: 0 }),
            (alloc(1, 0, 500), Outcome::Placed { start: 4096 }),
            (alloc(1, 3, 300), Outcome::Grown),
            (alloc(1, 1, 3500), Outcome::AddressSpaceFull { need: 4300 }),
        ];
        for (op, want) in steps {
            assert_eq!(os.apply(op), want, "{op:?}");
        }
        assert_eq!(os.layout(1).internal_fragmentation(), 4096 - 800);
        assert_eq!(os.apply(Op::Exit { pid: 0 }), Outcome::Freed);
        // Two 4K holes, not adjacent: a third space fits, nothing larger would.
        assert_eq!(os.memory().free_list(), &[(0, 4096), (8192, 4096)]);
        assert_eq!(os.apply(alloc(2, 1, 10)), Outcome::Placed { start: 0 });
        os.memory_mut().bytes_mut()[4096 + 4095] = 7;
        assert_eq!(os.apply(Op::Exit { pid: 2 }), Outcome::Freed);
        let c = os.compact();
        // B moves down a whole 4096 bytes, 3296 of them unused.
        assert_eq!(c.bytes_copied, 4096);
        assert_eq!(
            os.processes()[1].bb,
            Some(BaseBounds {
                base: 0,
                bounds: 4096
            })
        );
        assert_eq!(read(&os, 1, 4095), Some(7));
        // Processes A B B B A C C: switches to A, B, A, C; after A's exit nothing is saved.
        assert_eq!(
            os.switches(),
            Switches {
                switches: 4,
                register_saves: 4,
                register_restores: 8
            }
        );
    }

    #[test]
    fn generation_is_seeded() {
        assert_eq!(generate(7, 50, 3, 1000), generate(7, 50, 3, 1000));
        assert_ne!(generate(7, 50, 3, 1000), generate(8, 50, 3, 1000));
        assert_eq!(generate(7, 50, 3, 1000).len(), 50);
        // Shares come from a process holding that segment.
        let ops = generate(7, 200, 3, 1000);
        let mut os = ContiguousOs::new(
            Mode::Segmentation { va_bits: 12 },
            1 << 20,
            Fit::First,
            &names(3),
        );
        let shared = ops
            .iter()
            .filter(|&&op| matches!(os.apply(op), Outcome::Shared { .. }))
            .count();
        assert!(shared > 0);
        assert_eq!(
            shared,
            ops.iter().filter(|o| matches!(o, Op::Share { .. })).count()
        );
    }

    proptest! {
        /// After compaction every process's translations reach the same bytes as before, and
        /// the free space is one block.
        #[test]
        fn compaction_preserves_every_translation(seed in any::<u64>(), steps in 1usize..80,
                fit in prop::sample::select(vec![Fit::First, Fit::Best, Fit::Worst]),
                bb in any::<bool>()) {
            let mode = if bb { Mode::BaseBounds { asize: 1024 } } else { Mode::Segmentation { va_bits: 12 } };
            let mut os = ContiguousOs::new(mode, 8192, fit, &names(4));
            for op in generate(seed, steps, 4, 1024) {
                os.apply(op);
            }
            // Distinct contents everywhere.
            for (i, b) in os.memory_mut().bytes_mut().iter_mut().enumerate() {
                *b = (i * 131 % 251) as u8;
            }
            let before: Vec<Vec<Option<u8>>> = (0..4).map(|p| (0..4096).map(|va| read(&os, p, va)).collect()).collect();
            let c = os.compact();
            let after: Vec<Vec<Option<u8>>> = (0..4).map(|p| (0..4096).map(|va| read(&os, p, va)).collect()).collect();
            prop_assert_eq!(before, after);
            // Every holder of a region, sharers included, has its register on the region.
            for r in os.memory().map() {
                for h in r.owner.iter().chain(&r.sharers) {
                    let reg = match h.seg {
                        Some(s) => os.processes()[h.pid].segments.segments[s].physical_start(),
                        None => os.processes()[h.pid].bb.map_or(u64::MAX, |b| b.base),
                    };
                    prop_assert_eq!(reg, r.start);
                }
            }
            // Each region moved is copied once: moves are distinct regions.
            let mut froms: Vec<u64> = c.moves.iter().map(|m| m.from).collect();
            froms.dedup();
            prop_assert_eq!(froms.len(), c.moves.len());
            let f = os.memory().free_list();
            prop_assert!(f.len() <= 1);
            let used: u64 = os.memory().map().iter().filter(|r| r.owner.is_some()).map(|r| r.size).sum();
            if let Some(&(start, size)) = f.first() {
                prop_assert_eq!((start, size), (used, 8192 - used));
            }
            prop_assert_eq!(c.bytes_copied, c.moves.iter().map(|m| m.bytes).sum::<u64>());
            prop_assert_eq!(os.compact(), Compaction::default(), "a second compaction moves nothing");
        }
    }
}
