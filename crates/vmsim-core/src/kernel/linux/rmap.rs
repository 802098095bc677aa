//! The reverse map, as mm/rmap.c's `folio_add_anon_rmap_pte`, `folio_remove_rmap_pte`,
//! `folio_referenced` and `try_to_unmap`: every resident frame the kernel manages (its
//! `struct folio`), with its use, its content and the (process, address) of each PTE that maps
//! it, so that reclaim can find and change those PTEs from the frame alone.

use super::mm_types::Processes;
use super::swapfile::Slot;
use super::trace::Tracepoints;
use crate::addr::VirtAddr;
use crate::kernel::stats::KernelStats;
use crate::kernel::vma::FileId;
use crate::kernel::Pid;
use crate::mmu::Mmu;
use crate::phys::PhysMem;
use crate::pte::{Pte, PteFlags};
use rustc_hash::FxHashMap;

/// What a frame holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FrameUse {
    Anon,
    File { file: FileId, index: u64 },
}

/// One resident frame (a folio).
#[derive(Debug, Clone)]
pub(super) struct Frame {
    pub(super) kind: FrameUse,
    /// (process, page address) of every PTE that maps it: the reverse map.
    pub(super) mappers: Vec<(Pid, u64)>,
    /// Content identity: the version of the last simulated store.
    pub(super) content: u64,
    /// Differs from its backing copy (swap slot or file).
    pub(super) dirty: bool,
    /// The swap slot holding a clean copy (the swap cache).
    pub(super) swap: Option<Slot>,
    /// Read ahead and not yet used by a fault.
    pub(super) readahead: bool,
    /// Buddy order: 0 for a 4 KiB page, 9 for a transparent huge page.
    pub(super) order: u8,
    /// A huge page's content identity per 4 KiB subpage.
    pub(super) sub: Option<Box<[u64]>>,
}

impl Frame {
    /// A clean 4 KiB frame of `kind` holding `content`, mapped nowhere yet.
    pub(super) fn new(kind: FrameUse, content: u64) -> Self {
        Frame {
            kind,
            mappers: Vec::new(),
            content,
            dirty: false,
            swap: None,
            readahead: false,
            order: 0,
            sub: None,
        }
    }

    /// Whether a PTE mapping it has been written through (its D bit), as `folio_mkclean`
    /// finds before writing a page out.
    pub(super) fn dirty_in_tables(&self, procs: &Processes, mem: &PhysMem) -> bool {
        let mut dirty = false;
        for &(pid, va) in &self.mappers {
            if let Some(e) = procs
                .get(pid)
                .and_then(|p| p.table.pte(mem, VirtAddr::new_unchecked(va)))
            {
                dirty |= e.has(PteFlags::DIRTY);
            }
        }
        dirty
    }
}

/// Every resident frame the kernel manages, by frame number.
#[derive(Debug, Clone, Default)]
pub(super) struct Rmap {
    frames: FxHashMap<u64, Frame>,
}

impl Rmap {
    pub(super) fn get(&self, pfn: u64) -> Option<&Frame> {
        self.frames.get(&pfn)
    }

    pub(super) fn get_mut(&mut self, pfn: u64) -> Option<&mut Frame> {
        self.frames.get_mut(&pfn)
    }

    pub(super) fn insert(&mut self, pfn: u64, frame: Frame) {
        self.frames.insert(pfn, frame);
    }

    pub(super) fn remove(&mut self, pfn: u64) -> Option<Frame> {
        self.frames.remove(&pfn)
    }

    /// Frames in the map's (deterministic) order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (u64, &Frame)> {
        self.frames.iter().map(|(&pfn, f)| (pfn, f))
    }

    pub(super) fn len(&self) -> usize {
        self.frames.len()
    }

    /// A fault found `pfn` in a cache: whether it had been read ahead and is now used for the
    /// first time.
    pub(super) fn readahead_used(&mut self, pfn: u64) -> bool {
        self.frames
            .get_mut(&pfn)
            .is_some_and(|f| std::mem::take(&mut f.readahead))
    }

    /// Records that `pid` maps `pfn` at `va`.
    pub(super) fn add(&mut self, pfn: u64, pid: Pid, va: u64) {
        if let Some(f) = self.frames.get_mut(&pfn) {
            f.mappers.push((pid, va));
        }
    }

    /// Forgets that `pid` maps `pfn` at `va`.
    pub(super) fn remove_mapper(&mut self, pfn: u64, pid: Pid, va: u64) {
        if let Some(f) = self.frames.get_mut(&pfn) {
            f.mappers.retain(|&(q, a)| !(q == pid && a == va));
        }
    }

    /// Whether any PTE mapping `pfn` has its accessed (A) bit set, clearing every such bit:
    /// the reclaim policies' only view of references.
    pub(super) fn referenced(&self, pfn: u64, procs: &mut Processes, mem: &mut PhysMem) -> bool {
        let mut young = false;
        if let Some(f) = self.frames.get(&pfn) {
            for &(pid, va) in &f.mappers {
                if let Some(p) = procs.get_mut(pid) {
                    let v = VirtAddr::new_unchecked(va);
                    if let Some(e) = p.table.pte(mem, v).filter(|e| e.has(PteFlags::ACCESSED)) {
                        young = true;
                        let _ = p.table.set_pte(mem, v, e.without(PteFlags::ACCESSED));
                    }
                }
            }
        }
        young
    }
}

/// Replaces every PTE in `mappers` with `replacement` (a swap entry or nothing) and
/// invalidates each changed page, counting the shootdowns it took in `stats`.
pub(super) fn try_to_unmap(
    procs: &mut Processes,
    mem: &mut PhysMem,
    cpus: &mut [Mmu],
    (stats, trace): (&mut KernelStats, &mut Tracepoints),
    mappers: &[(Pid, u64)],
    replacement: Pte,
) {
    for &(pid, va) in mappers {
        let v = VirtAddr::new_unchecked(va);
        if let Some(p) = procs.get_mut(pid) {
            if let Ok((_, fl)) = p.table.set_pte(mem, v, replacement) {
                trace.shootdowns(stats, pid, p.flush_tlb(cpus, Some(fl)));
            }
        }
    }
}
