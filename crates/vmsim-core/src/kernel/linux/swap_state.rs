//! The swap cache and swap-in, as mm/swap_state.c's `swap_cache_get_folio`,
//! `swapin_readahead`, `free_swap_and_cache` and `free_pages_and_swap_cache`, with swap entries
//! in PTEs as include/linux/swapops.h encodes them.

use super::page_alloc::new_frame;
use super::rmap::{FrameUse, Rmap};
use super::swapfile::{Slot, SwapDevice};
use super::LinuxKernel;
use crate::addr::Pfn;
use crate::kernel::{KernelError, Pid};
use crate::mmu::Mmu;
use crate::phys::PhysMem;
use crate::pte::Pte;

/// Marks a non-present PTE as a swap entry (an ignored bit, like Linux's own encoding).
const SWAP_MARK: u64 = 1 << 9;

/// The non-present PTE that holds `slot`.
pub(super) fn swap_pte(slot: Slot) -> Pte {
    Pte::from_raw(SWAP_MARK | ((slot as u64 + 1) << 12))
}

/// The slot a swap entry holds, if `p` is one.
pub(super) fn swap_slot(p: Pte) -> Option<Slot> {
    (!p.present() && p.raw() & SWAP_MARK != 0).then(|| ((p.raw() >> 12) - 1) as Slot)
}

/// Drops a reference to a swap slot; a freed slot leaves its cached frame dirty.
pub(super) fn put_slot(swap: &mut SwapDevice, rmap: &mut Rmap, slot: Slot) {
    let cached = swap.cached(slot);
    if swap.put(slot) {
        if let Some(f) = cached.and_then(|pfn| rmap.get_mut(pfn)) {
            f.swap = None;
            f.dirty = true;
        }
    }
}

impl LinuxKernel {
    /// Brings swap slot `slot` into memory (swap cache or swap-in with readahead); returns the
    /// frame and whether it was already cached.
    pub(super) fn swap_page(
        &mut self,
        mem: &mut PhysMem,
        cpus: &mut [Mmu],
        pid: Pid,
        slot: Slot,
    ) -> Result<Option<(u64, bool)>, KernelError> {
        if let Some(pfn) = self.swap.cached(slot) {
            if self.rmap.readahead_used(pfn) {
                self.stats.readahead_hits += 1;
            }
            self.stats.swap_cache_hits += 1;
            return Ok(Some((pfn, true)));
        }
        let Some(pfn) = self.alloc_frame(mem, cpus, pid)? else {
            return Ok(None);
        };
        let content = self.swap.content(slot);
        new_frame(
            &mut self.rmap,
            &mut self.reclaim,
            pfn,
            FrameUse::Anon,
            content,
        );
        if let Some(f) = self.rmap.get_mut(pfn) {
            f.swap = Some(slot);
        }
        self.swap.cache_insert(slot, pfn);
        self.stats.swap_ins += 1;
        // Swap readahead: the neighbouring slots that hold pages.
        for s in slot + 1..=slot.saturating_add(self.cfg.swap_readahead) {
            if s >= self.swap.capacity() || self.swap.refs(s) == 0 || self.swap.cached(s).is_some()
            {
                continue;
            }
            if mem.buddy().free_frames() <= self.wmark.high {
                break;
            }
            let Ok(p) = mem.frames().alloc(0) else { break };
            let content = self.swap.content(s);
            new_frame(
                &mut self.rmap,
                &mut self.reclaim,
                p.0,
                FrameUse::Anon,
                content,
            );
            if let Some(f) = self.rmap.get_mut(p.0) {
                f.swap = Some(s);
                f.readahead = true;
            }
            self.swap.cache_insert(s, p.0);
            self.stats.readahead_pages += 1;
        }
        Ok(Some((pfn, false)))
    }

    /// Frees anonymous frames nobody maps and whose swap copy (if any) nobody references.
    pub(super) fn free_unmapped(&mut self, mem: &mut PhysMem) {
        let swap = &self.swap;
        let orphans: Vec<u64> = self
            .rmap
            .iter()
            .filter(|(_, f)| f.mappers.is_empty() && f.kind == FrameUse::Anon)
            .filter(|(_, f)| f.swap.is_none_or(|s| swap.refs(s) == 0))
            .map(|(p, _)| p)
            .collect();
        for pfn in orphans {
            let mut order = 0;
            if let Some(f) = self.rmap.remove(pfn) {
                if let Some(s) = f.swap {
                    self.swap.cache_remove(s);
                }
                order = f.order;
            }
            self.reclaim.remove(pfn);
            mem.frames().free(Pfn(pfn), order);
        }
    }
}
