//! Page faults and unmapping, as mm/memory.c: `handle_mm_fault` and `handle_pte_fault`,
//! `do_anonymous_page`, `do_fault` (file pages), `do_swap_page`, `do_wp_page` (copy-on-write),
//! `zap_page_range` with `zap_pte_range`, `mm_account_fault`, and `access_process_vm` (the
//! simulated loads and stores that check no data is lost).

use super::mmap::perm_flags;
use super::page_alloc::new_frame;
use super::rmap::FrameUse;
use super::swap_state::{put_slot, swap_slot};
use super::swapfile::Slot;
use super::LinuxKernel;
use crate::access::AccessKind;
use crate::addr::{PageSize, Pfn, VirtAddr};
use crate::event::{Fault, Resolution};
use crate::kernel::vma::{Backing, Prot, Vma, PAGE};
use crate::kernel::{KernelError, Pid};
use crate::mmu::Mmu;
use crate::phys::PhysMem;
use crate::pte::{Pte, PteFlags};
use crate::radix::WalkFault;

impl LinuxKernel {
    /// Resolves a fault: finds the VMA (growing the stack), checks the access against it, and
    /// dispatches to copy-on-write, swap-in or a first touch.
    pub(super) fn fault(
        &mut self,
        mem: &mut PhysMem,
        cpus: &mut [Mmu],
        pid: Pid,
        va: VirtAddr,
        kind: AccessKind,
        fault: Fault,
    ) -> Result<Resolution, KernelError> {
        // A killed process's later accesses (its trace goes on) all fail.
        if matches!(
            fault,
            Fault::NonCanonical | Fault::Walk(WalkFault::Reserved { .. })
        ) || self.oom.killed(pid)
        {
            return Ok(self.segv(pid));
        }
        let Some(p) = self.procs.get(pid) else {
            return Ok(Resolution::Segv);
        };
        let page = va.align_down(PageSize::SIZE_4K);
        // 1. Which VMA? Grow the stack if the fault is just below one.
        let vma = match p.space.find(va) {
            Some(v) => Some(*v),
            None => match self.expand_stack(pid, va, page) {
                Some(v) => Some(v),
                None if self.cfg.implicit_anon => {
                    self.stats.outside_vmas += 1;
                    None
                }
                None => return Ok(self.segv(pid)),
            },
        };
        let (prot, shared) = match vma {
            Some(v) => (v.prot, v.shared),
            None => (Prot::RWX, false),
        };
        // 2. May this access happen at all?
        let allowed = match kind {
            AccessKind::Read => prot.read,
            AccessKind::Write => prot.write,
            AccessKind::Fetch => prot.exec,
        };
        if !allowed {
            return Ok(self.segv(pid));
        }
        // A write to a read-only 2 MiB mapping. The huge zero page: its PMD is split into
        // 4 KiB zero-page PTEs and the write goes on as one to the 4 KiB zero page. A THP
        // shared since fork: its last mapper takes it over, else it is split and copied by
        // 4 KiB pages below (mm/huge_memory.c `do_huge_pmd_wp_page`, VM_FAULT_FALLBACK).
        if kind == AccessKind::Write && !shared {
            let base = page.align_down(PageSize::SIZE_2M);
            let huge = self
                .procs
                .get(pid)
                .and_then(|p| p.table.lookup(mem, base))
                .filter(|(e, size)| *size == PageSize::SIZE_2M && !e.has(PteFlags::WRITABLE));
            if let Some((e, size)) = huge {
                if self.zero.is_huge(e.large_frame(size).0) {
                    self.split_huge_zero_pmd(mem, pid, base)?;
                    self.flush_tlb(cpus, pid, None);
                } else if let Some(r) = self.huge_wp(mem, cpus, pid, base, e)? {
                    return Ok(r);
                }
            }
        }
        let pte = self.pte(mem, pid, page);
        // 3. Copy-on-write: a write to a present, read-only page of a writable private VMA.
        if pte.present() {
            if kind != AccessKind::Write || shared {
                return Ok(self.segv(pid));
            }
            return self.do_wp_page(mem, cpus, pid, page, pte, prot);
        }
        // 4. Swapped out.
        if let Some(slot) = swap_slot(pte) {
            return self.do_swap_page(mem, cpus, pid, page, slot, prot, kind);
        }
        // 5. First touch.
        match vma {
            Some(v) if matches!(v.backing, Backing::File { .. }) => {
                self.do_fault(mem, cpus, pid, page, v, kind)
            }
            _ => self.do_anonymous_page(mem, cpus, pid, page, vma, prot, kind),
        }
    }

    /// `pid`'s PTE for `page`, or an empty one.
    fn pte(&self, mem: &PhysMem, pid: Pid, page: VirtAddr) -> Pte {
        self.procs
            .get(pid)
            .and_then(|p| p.table.pte(mem, page))
            .unwrap_or(Pte::EMPTY)
    }

    /// A swapped-out page: from the swap cache or read back, mapped writable if no one else
    /// holds the slot. A write to a page someone else still holds goes on to copy it within
    /// the same fault, counted once (Linux 6.18 mm/memory.c `do_swap_page`, which calls
    /// `do_wp_page` itself for a write fault).
    #[allow(clippy::too_many_arguments)]
    fn do_swap_page(
        &mut self,
        mem: &mut PhysMem,
        cpus: &mut [Mmu],
        pid: Pid,
        page: VirtAddr,
        slot: Slot,
        prot: Prot,
        kind: AccessKind,
    ) -> Result<Resolution, KernelError> {
        let Some((pfn, cached)) = self.swap_page(mem, cpus, pid, slot)? else {
            return Ok(Resolution::OomKilled);
        };
        // The PTE's reference moves from the slot to the frame.
        let exclusive = self.swap.refs(slot) == 1;
        let writable = prot.write && exclusive;
        self.install(mem, pid, page, pfn, perm_flags(prot, writable))?;
        put_slot(&mut self.swap, &mut self.rmap, slot);
        let mut mapped = Pfn(pfn);
        if kind == AccessKind::Write && !writable {
            let pte = self.pte(mem, pid, page);
            match self.wp_page(mem, cpus, pid, page, pte, prot)? {
                Resolution::CowCopy { to, .. } => mapped = to,
                Resolution::CowReuse { .. } => {}
                other => return Ok(other),
            }
        }
        self.count(pid, !cached);
        Ok(if cached {
            Resolution::SwapCache {
                va: page,
                pfn: mapped,
            }
        } else {
            Resolution::SwapIn {
                va: page,
                pfn: mapped,
            }
        })
    }

    /// A first touch of anonymous memory (Linux 6.18 mm/memory.c `do_anonymous_page`, after
    /// mm/huge_memory.c `do_huge_pmd_anonymous_page` where THP applies): a read or fetch maps
    /// the shared zero page read-only (no frame, no RSS; the first write faults again), a
    /// write gets a zeroed page of its own.
    #[allow(clippy::too_many_arguments)]
    fn do_anonymous_page(
        &mut self,
        mem: &mut PhysMem,
        cpus: &mut [Mmu],
        pid: Pid,
        page: VirtAddr,
        vma: Option<Vma>,
        prot: Prot,
        kind: AccessKind,
    ) -> Result<Resolution, KernelError> {
        if let Some(r) = self.try_thp(mem, pid, page, vma, prot, kind)? {
            return Ok(r);
        }
        if kind != AccessKind::Write {
            if let Some(pfn) = self.map_zero_page(mem, pid, page, prot)? {
                self.count(pid, false);
                return Ok(Resolution::ZeroPage {
                    va: page,
                    pfn,
                    size: PageSize::SIZE_4K,
                });
            }
        }
        let Some(pfn) = self.alloc_frame(mem, cpus, pid)? else {
            return Ok(Resolution::OomKilled);
        };
        new_frame(&mut self.rmap, &mut self.reclaim, pfn, FrameUse::Anon, 0);
        self.install(mem, pid, page, pfn, perm_flags(prot, prot.write))?;
        self.stats.demand_zero += 1;
        self.count(pid, false);
        Ok(Resolution::DemandZero {
            va: page,
            pfn: Pfn(pfn),
            size: PageSize::SIZE_4K,
        })
    }

    /// A first touch of a file mapping (Linux 6.18 mm/memory.c `do_fault`): the page from the
    /// page cache or disk. A read first maps what of the fault-around window is cached
    /// (`do_read_fault`, `do_fault_around`) and is done if that covered its page. A read, or
    /// any access to a shared mapping, maps the cached page (`do_read_fault`,
    /// `do_shared_fault`; private mappings read-only, so a later write copies it). A write to a private mapping copies the page into a new anonymous one at
    /// once (`do_cow_fault`): one fault, major if the page had to be read.
    fn do_fault(
        &mut self,
        mem: &mut PhysMem,
        cpus: &mut [Mmu],
        pid: Pid,
        page: VirtAddr,
        vma: Vma,
        kind: AccessKind,
    ) -> Result<Resolution, KernelError> {
        let (prot, shared) = (vma.prot, vma.shared);
        let (file, index) = vma.file_page(page.as_u64()).unwrap_or((0, 0));
        if kind != AccessKind::Write {
            if let Some(pfn) = self.fault_around(mem, pid, page, vma)? {
                self.count(pid, false);
                return Ok(Resolution::PageCache { va: page, pfn });
            }
        }
        let Some((pfn, cached)) = self.file_page(mem, cpus, pid, file, index)? else {
            return Ok(Resolution::OomKilled);
        };
        if kind == AccessKind::Write && !shared {
            let Some(copy) = self.cow_copy(mem, cpus, pid, page, pfn, prot)? else {
                return Ok(Resolution::OomKilled);
            };
            self.count(pid, !cached);
            self.free_unmapped(mem);
            return Ok(if cached {
                Resolution::CowCopy {
                    va: page,
                    from: Pfn(pfn),
                    to: Pfn(copy),
                }
            } else {
                Resolution::FileRead {
                    va: page,
                    pfn: Pfn(copy),
                }
            });
        }
        self.count(pid, !cached);
        let writable = shared && prot.write;
        self.install(mem, pid, page, pfn, perm_flags(prot, writable))?;
        Ok(if cached {
            Resolution::PageCache {
                va: page,
                pfn: Pfn(pfn),
            }
        } else {
            Resolution::FileRead {
                va: page,
                pfn: Pfn(pfn),
            }
        })
    }

    /// A write fault on a present read-only page of a writable private VMA (Linux 6.18
    /// mm/memory.c `do_wp_page`), counted as one minor fault.
    fn do_wp_page(
        &mut self,
        mem: &mut PhysMem,
        cpus: &mut [Mmu],
        pid: Pid,
        page: VirtAddr,
        pte: Pte,
        prot: Prot,
    ) -> Result<Resolution, KernelError> {
        let r = self.wp_page(mem, cpus, pid, page, pte, prot)?;
        if !matches!(r, Resolution::Segv | Resolution::OomKilled) {
            self.count(pid, false);
        }
        Ok(r)
    }

    /// Copy-on-write without counting the fault (the caller's fault counts it): the zero page
    /// is replaced by a zeroed page of its own (`wp_page_copy` of the zero pfn); the last
    /// mapper of an anonymous page takes it over (`wp_can_reuse_anon_folio`); anyone else gets
    /// a copy.
    fn wp_page(
        &mut self,
        mem: &mut PhysMem,
        cpus: &mut [Mmu],
        pid: Pid,
        page: VirtAddr,
        pte: Pte,
        prot: Prot,
    ) -> Result<Resolution, KernelError> {
        let old = pte.frame().0;
        if self.zero.is_small(old) {
            let Some(new) = self.alloc_frame(mem, cpus, pid)? else {
                return Ok(Resolution::OomKilled);
            };
            new_frame(&mut self.rmap, &mut self.reclaim, new, FrameUse::Anon, 0);
            let p = self.procs.get_mut(pid).ok_or(KernelError::NoProcess(pid))?;
            let flags = perm_flags(prot, true) | PteFlags::PRESENT;
            let (_, flush) = p.table.set_pte(mem, page, Pte::new(Pfn(new), flags))?;
            self.rmap.add(new, pid, page.as_u64());
            self.stats.demand_zero += 1;
            self.flush_tlb(cpus, pid, Some(flush));
            return Ok(Resolution::DemandZero {
                va: page,
                pfn: Pfn(new),
                size: PageSize::SIZE_4K,
            });
        }
        let (kind, mappers, swap) = match self.rmap.get(old) {
            Some(f) => (f.kind, f.mappers.len(), f.swap),
            None => return Ok(self.segv(pid)),
        };
        if kind == FrameUse::Anon && mappers == 1 && swap.is_none_or(|s| self.swap.refs(s) == 0) {
            // The last mapper: take the page over.
            let p = self.procs.get_mut(pid).ok_or(KernelError::NoProcess(pid))?;
            let (_, flush) = p.table.set_pte(mem, page, pte.with(PteFlags::WRITABLE))?;
            self.stats.cow_reuses += 1;
            p.stats.cow_reuses += 1;
            self.flush_tlb(cpus, pid, Some(flush));
            return Ok(Resolution::CowReuse {
                va: page,
                pfn: Pfn(old),
            });
        }
        let Some(new) = self.cow_copy(mem, cpus, pid, page, old, prot)? else {
            return Ok(Resolution::OomKilled);
        };
        self.free_unmapped(mem);
        Ok(Resolution::CowCopy {
            va: page,
            from: Pfn(old),
            to: Pfn(new),
        })
    }

    /// Copies frame `from` into a new anonymous frame mapped writable at `(pid, page)` in place
    /// of whatever was there, and counts the copy (`wp_page_copy`, `do_cow_fault`). `None`:
    /// the OOM killer chose `pid`.
    fn cow_copy(
        &mut self,
        mem: &mut PhysMem,
        cpus: &mut [Mmu],
        pid: Pid,
        page: VirtAddr,
        from: u64,
        prot: Prot,
    ) -> Result<Option<u64>, KernelError> {
        let content = self.rmap.get(from).map_or(0, |f| f.content);
        let Some(new) = self.alloc_frame(mem, cpus, pid)? else {
            return Ok(None);
        };
        new_frame(
            &mut self.rmap,
            &mut self.reclaim,
            new,
            FrameUse::Anon,
            content,
        );
        if let Some(f) = self.rmap.get_mut(new) {
            f.dirty = true;
        }
        self.rmap.remove_mapper(from, pid, page.as_u64());
        let p = self.procs.get_mut(pid).ok_or(KernelError::NoProcess(pid))?;
        let flags = perm_flags(prot, true) | PteFlags::PRESENT;
        let (_, flush) = p.table.set_pte(mem, page, Pte::new(Pfn(new), flags))?;
        self.rmap.add(new, pid, page.as_u64());
        self.stats.cow_copies += 1;
        p.stats.cow_copies += 1;
        self.flush_tlb(cpus, pid, Some(flush));
        Ok(Some(new))
    }

    /// Maps frame `pfn` at `(pid, va)` with `flags` and records the mapping in the rmap.
    pub(super) fn install(
        &mut self,
        mem: &mut PhysMem,
        pid: Pid,
        va: VirtAddr,
        pfn: u64,
        flags: PteFlags,
    ) -> Result<(), KernelError> {
        let p = self.procs.get_mut(pid).ok_or(KernelError::NoProcess(pid))?;
        let _ = p
            .table
            .set_pte(mem, va, Pte::new(Pfn(pfn), flags | PteFlags::PRESENT))?;
        self.rmap.add(pfn, pid, va.as_u64());
        Ok(())
    }

    /// Counts a fault, system-wide and for `pid`.
    pub(super) fn count(&mut self, pid: Pid, major: bool) {
        if major {
            self.stats.major_faults += 1;
        } else {
            self.stats.minor_faults += 1;
        }
        if let Some(p) = self.procs.get_mut(pid) {
            if major {
                p.stats.major_faults += 1;
            } else {
                p.stats.minor_faults += 1;
            }
        }
    }

    /// Counts a refused access.
    fn segv(&mut self, pid: Pid) -> Resolution {
        self.stats.segv += 1;
        if let Some(p) = self.procs.get_mut(pid) {
            p.stats.segv += 1;
        }
        Resolution::Segv
    }

    /// Drops the mappings of `[start, end)` and invalidates the TLBs once if any existed.
    pub(super) fn zap_range(
        &mut self,
        mem: &mut PhysMem,
        cpus: &mut [Mmu],
        pid: Pid,
        start: u64,
        end: u64,
    ) -> Result<(), KernelError> {
        let mut va = start;
        let mut touched = false;
        while va < end {
            touched |= self.zap(mem, pid, VirtAddr::new_unchecked(va))?;
            va += PAGE;
        }
        if touched {
            self.flush_tlb(cpus, pid, None);
        }
        Ok(())
    }

    /// Drops the mapping of one page of `pid` (munmap). Returns whether there was one.
    fn zap(&mut self, mem: &mut PhysMem, pid: Pid, va: VirtAddr) -> Result<bool, KernelError> {
        let Some(p) = self.procs.get_mut(pid) else {
            return Ok(false);
        };
        let Some(pte) = p.table.pte(mem, va).filter(|e| e.raw() != 0) else {
            return Ok(false);
        };
        let _ = p.table.set_pte(mem, va, Pte::EMPTY)?;
        self.release(pid, va, pte, PageSize::SIZE_4K);
        self.free_unmapped(mem);
        Ok(true)
    }

    /// Forgets one leaf entry's reference to its frame (of `size`) or swap slot.
    pub(super) fn release(&mut self, pid: Pid, va: VirtAddr, pte: Pte, size: PageSize) {
        if let Some(slot) = swap_slot(pte) {
            put_slot(&mut self.swap, &mut self.rmap, slot);
        } else if pte.present() {
            let pfn = if size == PageSize::SIZE_4K {
                pte.frame()
            } else {
                pte.large_frame(size)
            };
            if let Some(f) = self.rmap.get_mut(pfn.0) {
                if pte.has(PteFlags::DIRTY) {
                    f.dirty = true;
                }
                f.mappers.retain(|&(q, a)| !(q == pid && a == va.as_u64()));
            }
        }
    }

    /// Records a simulated store of `version` at `va` (the page must be present and
    /// writable: write to it through the machine first). Used to check that no data is lost.
    pub fn store(&mut self, mem: &PhysMem, pid: Pid, va: VirtAddr, version: u64) -> bool {
        let Some((pfn, sub)) = self.frame_of(mem, pid, va, true) else {
            return false;
        };
        match self.rmap.get_mut(pfn) {
            Some(f) => {
                match (&mut f.sub, sub) {
                    (Some(s), Some(i)) => s[i] = version,
                    _ => f.content = version,
                }
                f.dirty = true;
                true
            }
            None => false,
        }
    }

    /// The content version of the present page at `va` (read it through the machine first).
    pub fn load(&self, mem: &PhysMem, pid: Pid, va: VirtAddr) -> Option<u64> {
        let (pfn, sub) = self.frame_of(mem, pid, va, false)?;
        if self.zero.is_zero(pfn) {
            return Some(0);
        }
        self.rmap.get(pfn).map(|f| match (&f.sub, sub) {
            (Some(s), Some(i)) => s[i],
            _ => f.content,
        })
    }

    /// The frame mapping `va` (and the 4 KiB subpage index inside a huge page), if present
    /// (and writable, when asked).
    fn frame_of(
        &self,
        mem: &PhysMem,
        pid: Pid,
        va: VirtAddr,
        writable: bool,
    ) -> Option<(u64, Option<usize>)> {
        let (pte, size) = self.procs.get(pid)?.table.lookup(mem, va)?;
        if writable && !pte.has(PteFlags::WRITABLE) {
            return None;
        }
        if size == PageSize::SIZE_2M {
            Some((
                pte.large_frame(size).0,
                Some((va.page_offset(size) / PAGE) as usize),
            ))
        } else {
            Some((pte.frame().0, None))
        }
    }
}
