//! Page reclaim, as mm/vmscan.c's `shrink_node` (reclaim to a target), `shrink_folio_list`
//! with `try_to_unmap` and `pageout` (evict one frame) and `kswapd` (reclaim between
//! accesses): the policy (any of `replace/`, through `replace/reclaim.rs`) picks victims, this
//! file takes them away.

use super::rmap::{try_to_unmap, FrameUse};
use super::swap_state::{swap_pte, swap_slot};
use super::swapfile::Slot;
use super::LinuxKernel;
use crate::addr::Pfn;
use crate::event::Event;
use crate::mmu::Mmu;
use crate::phys::PhysMem;
use crate::pte::Pte;

impl LinuxKernel {
    /// Background reclaim: when free memory is below the low watermark, back up to the high.
    pub(super) fn kswapd(&mut self, mem: &mut PhysMem, cpus: &mut [Mmu]) {
        let free = mem.buddy().free_frames();
        if free < self.wmark.low {
            self.stats.background_reclaims += 1;
            self.trace.emit(Event::Reclaim {
                direct: false,
                free,
                target: self.wmark.high,
            });
            self.reclaim_to(mem, cpus, self.wmark.high);
        }
    }

    /// Reclaims until `target` frames are free or nothing more can go.
    pub(super) fn reclaim_to(&mut self, mem: &mut PhysMem, cpus: &mut [Mmu], target: u64) {
        let mut budget = self.reclaim.len() * 2 + 8;
        while mem.buddy().free_frames() < target && budget > 0 {
            budget -= 1;
            let (procs, rmap) = (&mut self.procs, &self.rmap);
            let Some(pfn) = self.reclaim.victim(|pfn| rmap.referenced(pfn, procs, mem)) else {
                break;
            };
            if !self.evict(mem, cpus, pfn) {
                // Could not evict (no swap for an anonymous page): keep it resident.
                self.reclaim.insert(pfn);
                if self.cfg.swap_pages == 0 || self.swap.used() == self.swap.capacity() {
                    // Look for clean or file pages among the rest within the budget.
                    continue;
                }
            } else {
                self.stats.reclaim_stolen += 1;
                self.trace.emit(Event::Evict { pfn: Pfn(pfn) });
            }
        }
    }

    /// Counts and traces the write of frame `pfn` to swap slot `slot`.
    fn swap_out(&mut self, pfn: u64, slot: Slot) {
        self.stats.swap_outs += 1;
        self.trace.emit(Event::SwapOut {
            pfn: Pfn(pfn),
            slot,
        });
    }

    /// Unmaps `pfn` from every page table (reverse mapping), writes it out if needed, frees it.
    fn evict(&mut self, mem: &mut PhysMem, cpus: &mut [Mmu], pfn: u64) -> bool {
        if self.rmap.get(pfn).is_some_and(|f| f.order > 0) {
            // A huge page is split and its pages swapped out one by one.
            if self.split_huge(mem, cpus, pfn).is_err() {
                return false;
            }
            let mut all = true;
            for i in 0..512 {
                self.reclaim.remove(pfn + i);
                if !self.evict(mem, cpus, pfn + i) {
                    self.reclaim.insert(pfn + i);
                    all = false;
                }
            }
            return all;
        }
        let Some(f) = self.rmap.get(pfn).cloned() else {
            return false;
        };
        let dirty = f.dirty | f.dirty_in_tables(&self.procs, mem);
        let replacement = match f.kind {
            FrameUse::Anon => {
                let slot = match f.swap {
                    Some(s) if !dirty => s,
                    Some(s) => {
                        self.swap.write(s, f.content);
                        self.swap_out(pfn, s);
                        s
                    }
                    None => match self.swap.alloc(0, f.content) {
                        Some(s) => {
                            self.swap_out(pfn, s);
                            s
                        }
                        None => return false,
                    },
                };
                for _ in &f.mappers {
                    self.swap.dup(slot);
                }
                self.swap.cache_remove(slot);
                swap_pte(slot)
            }
            FrameUse::File { file, index } => {
                if dirty {
                    self.page_cache.write_back(file, index, f.content);
                    self.stats.writebacks += 1;
                }
                self.page_cache.remove(file, index);
                Pte::EMPTY
            }
        };
        try_to_unmap(
            &mut self.procs,
            mem,
            cpus,
            (&mut self.stats, &mut self.trace),
            &f.mappers,
            replacement,
        );
        // A slot whose only reference was the cache (refs 0) and no mapper: free it.
        if let (FrameUse::Anon, Some(s)) = (f.kind, swap_slot(replacement)) {
            if f.mappers.is_empty() && self.swap.refs(s) == 0 {
                self.swap.put(s);
            }
        }
        self.rmap.remove(pfn);
        mem.frames().free(Pfn(pfn), 0);
        true
    }
}
