//! Transparent huge pages, as mm/huge_memory.c's `do_huge_pmd_anonymous_page` (a 2 MiB page
//! for a first touch), `copy_huge_pmd` (fork shares the page by PMD, both sides read-only),
//! `do_huge_pmd_wp_page` (the last mapper takes it over; a write to a shared one splits it),
//! `split_huge_page` and `split_huge_pmd` (back to 4 KiB pages before a partial unmap,
//! mprotect, COW or swap-out), and `hugepage_madvise` (Linux 6.18).
//!
//! Simplified: Linux splits only the PMD of the process that needs 4 KiB pages
//! (`__split_huge_pmd`) and leaves the folio mapped by PMD elsewhere; here a split is of the
//! folio, in every process that maps it. Split counts agree with `thp_split_pmd` when one
//! process's PMD is split; the other mappers then map 4 KiB pages where Linux keeps 2 MiB.

use super::mmap::perm_flags;
use super::page_alloc::new_frame;
use super::rmap::{Frame, FrameUse};
use super::{LinuxKernel, VmError};
use crate::access::AccessKind;
use crate::addr::{PageSize, Pfn, VirtAddr};
use crate::event::Resolution;
use crate::kernel::va_range::VaRange;
use crate::kernel::vma::{Prot, Vma, PAGE};
use crate::kernel::{KernelError, Pid};
use crate::mmu::Mmu;
use crate::phys::PhysMem;
use crate::pte::{Pte, PteFlags};

impl LinuxKernel {
    /// `madvise(MADV_HUGEPAGE)`: anonymous faults in `range` may get 2 MiB pages.
    pub fn madvise_hugepage(&mut self, pid: Pid, range: VaRange) -> Result<(), VmError> {
        let p = self.procs.get_mut(pid).ok_or(VmError::NoProcess(pid))?;
        p.space
            .modify_range(range.start(), range.end(), |v| v.huge = true);
        Ok(())
    }

    /// A transparent huge page for a first touch of anonymous memory, when the VMA asked for
    /// them (`madvise(MADV_HUGEPAGE)`) and the aligned 2 MiB region lies inside it with no page
    /// table below it yet (Linux 6.18 mm/huge_memory.c `do_huge_pmd_anonymous_page`): a read
    /// maps the huge zero page; a write takes a free order-9 block if one exists without
    /// dipping under the watermark.
    pub(super) fn try_thp(
        &mut self,
        mem: &mut PhysMem,
        pid: Pid,
        page: VirtAddr,
        vma: Option<Vma>,
        prot: Prot,
        kind: AccessKind,
    ) -> Result<Option<Resolution>, KernelError> {
        let Some(v) = vma.filter(|v| v.huge && !v.shared) else {
            return Ok(None);
        };
        let size = PageSize::SIZE_2M;
        let base = page.align_down(size);
        let fits = base.as_u64() >= v.start && base.as_u64() + size.bytes() <= v.end;
        let no_table = self
            .procs
            .get(pid)
            .is_some_and(|p| p.table.pte(mem, base).is_none());
        if !(fits && no_table) {
            return Ok(None);
        }
        if kind != AccessKind::Write {
            if let Some(pfn) = self.map_huge_zero_page(mem, pid, base, prot)? {
                self.count(pid, false);
                return Ok(Some(Resolution::ZeroPage {
                    va: base,
                    pfn,
                    size,
                }));
            }
        }
        let room = mem.buddy().free_frames() >= self.wmark.high + 512 && mem.buddy().has_block(9);
        if !room {
            return Ok(None);
        }
        let Ok(pfn) = mem.frames().alloc(9) else {
            return Ok(None);
        };
        let p = self.procs.get_mut(pid).ok_or(KernelError::NoProcess(pid))?;
        p.table
            .map(mem, base, size, pfn, perm_flags(prot, prot.write))?;
        p.deposited += 1;
        self.rmap.insert(
            pfn.0,
            Frame {
                mappers: vec![(pid, base.as_u64())],
                order: 9,
                sub: Some(vec![0; 512].into_boxed_slice()),
                ..Frame::new(FrameUse::Anon, 0)
            },
        );
        self.reclaim.insert(pfn.0);
        self.stats.thp_allocs += 1;
        self.stats.demand_zero += 1;
        self.count(pid, false);
        Ok(Some(Resolution::DemandZero {
            va: base,
            pfn,
            size,
        }))
    }

    /// Splits the huge page in frame `pfn` into 512 pages of 4 KiB, remapping it in every page
    /// table that maps it (as Linux's split_huge_page does before partial unmaps, COW and
    /// swap-out).
    pub(super) fn split_huge(
        &mut self,
        mem: &mut PhysMem,
        cpus: &mut [Mmu],
        pfn: u64,
    ) -> Result<(), KernelError> {
        let Some(f) = self.rmap.remove(pfn) else {
            return Ok(());
        };
        self.reclaim.remove(pfn);
        self.stats.thp_splits += 1;
        let sub = f
            .sub
            .unwrap_or_else(|| vec![f.content; 512].into_boxed_slice());
        for (i, &content) in sub.iter().enumerate() {
            let pfn = pfn + i as u64;
            new_frame(&mut self.rmap, &mut self.reclaim, pfn, f.kind, content);
            if let Some(x) = self.rmap.get_mut(pfn) {
                x.dirty = true;
            }
        }
        for (pid, base) in f.mappers {
            let Some(p) = self.procs.get_mut(pid) else {
                continue;
            };
            let old = p.table.unmap(mem, VirtAddr::new_unchecked(base))?;
            p.deposited = p.deposited.saturating_sub(1);
            let flags = old.pte.flags().difference(PteFlags::HUGE);
            for i in 0..512u64 {
                let va = VirtAddr::new_unchecked(base + i * PAGE);
                let _ = p.table.set_pte(mem, va, Pte::new(Pfn(pfn + i), flags))?;
                self.rmap.add(pfn + i, pid, va.as_u64());
            }
            // Flushing all of the process's translations covers the old 2 MiB entry.
            let n = p.flush_tlb(cpus, None);
            self.trace.shootdowns(&mut self.stats, pid, n);
        }
        Ok(())
    }

    /// Splits every huge page `pid` maps in `[start, end)`.
    pub(super) fn split_range(
        &mut self,
        mem: &mut PhysMem,
        cpus: &mut [Mmu],
        pid: Pid,
        start: u64,
        end: u64,
    ) -> Result<(), KernelError> {
        let mut huge = Vec::new();
        let mut zero = Vec::new();
        if let Some(p) = self.procs.get(pid) {
            p.table.for_each_leaf(mem, |va, pte, size| {
                let a = va.as_u64();
                if size == PageSize::SIZE_2M && a < end && a + size.bytes() > start {
                    let pfn = pte.large_frame(size).0;
                    if self.zero.is_huge(pfn) {
                        zero.push(va);
                    } else {
                        huge.push(pfn);
                    }
                }
            });
        }
        for h in huge {
            self.split_huge(mem, cpus, h)?;
        }
        for &base in &zero {
            self.split_huge_zero_pmd(mem, pid, base)?;
        }
        if !zero.is_empty() {
            self.flush_tlb(cpus, pid, None);
        }
        Ok(())
    }

    /// A write fault on a read-only 2 MiB mapping of a THP (shared since fork) at `base`
    /// (Linux 6.18 mm/huge_memory.c `do_huge_pmd_wp_page`): the last mapper makes it writable
    /// in place, one minor fault; with other mappers it is split and the fault goes on to 4 KiB
    /// copy-on-write (`None`).
    pub(super) fn huge_wp(
        &mut self,
        mem: &mut PhysMem,
        cpus: &mut [Mmu],
        pid: Pid,
        base: VirtAddr,
        pte: Pte,
    ) -> Result<Option<Resolution>, KernelError> {
        let pfn = pte.large_frame(PageSize::SIZE_2M).0;
        let alone = self.rmap.get(pfn).is_some_and(|f| f.mappers.len() == 1);
        if !alone {
            self.split_huge(mem, cpus, pfn)?;
            return Ok(None);
        }
        let p = self.procs.get_mut(pid).ok_or(KernelError::NoProcess(pid))?;
        let flush = p
            .table
            .protect(mem, base, pte.with(PteFlags::WRITABLE).flags())?;
        self.stats.cow_reuses += 1;
        p.stats.cow_reuses += 1;
        self.count(pid, false);
        self.flush_tlb(cpus, pid, Some(flush));
        Ok(Some(Resolution::CowReuse {
            va: base,
            pfn: Pfn(pfn),
        }))
    }
}
