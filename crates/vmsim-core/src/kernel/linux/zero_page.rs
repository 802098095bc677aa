//! The shared zero pages, as Linux 6.18 keeps them: `empty_zero_page` (arch/x86/kernel/head_64.S,
//! mapped by mm/memory.c `do_anonymous_page` for a read fault) and the huge zero folio
//! (mm/huge_memory.c `mm_get_huge_zero_folio`, mapped by `do_huge_pmd_anonymous_page` for a
//! read fault of a THP region when `transparent_hugepage/use_zero_page` is 1, its default).
//!
//! A read of untouched private anonymous memory maps one of them read-only: no frame is
//! allocated and nothing is added to RSS, so the first write faults again and allocates
//! (`do_wp_page` → `wp_page_copy`; a huge zero PMD is split first, `do_huge_pmd_wp_page`
//! falls back to 4 KiB pages). The frames belong to the kernel: they are taken from physical
//! memory once, on first use, and never given back, and the reverse map does not know them.

use super::mmap::perm_flags;
use super::LinuxKernel;
use crate::addr::{PageSize, Pfn, VirtAddr};
use crate::kernel::vma::{Prot, PAGE};
use crate::kernel::{KernelError, Pid};
use crate::phys::PhysMem;
use crate::pte::{Pte, PteFlags};

/// The frames of the two zero pages, once taken.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct ZeroPages {
    small: Option<u64>,
    huge: Option<u64>,
}

impl ZeroPages {
    /// Whether `pfn` is the 4 KiB zero page.
    #[inline]
    pub(super) fn is_small(&self, pfn: u64) -> bool {
        self.small == Some(pfn)
    }

    /// Whether `pfn` is the huge zero page (its first frame).
    #[inline]
    pub(super) fn is_huge(&self, pfn: u64) -> bool {
        self.huge == Some(pfn)
    }

    /// Whether a leaf mapping of `pfn` maps a zero page (of either size): not resident memory
    /// of the process (smaps' Rss excludes it).
    pub(super) fn is_zero(&self, pfn: u64) -> bool {
        self.is_small(pfn) || self.is_huge(pfn)
    }

    /// Frames the zero pages hold (0, 1, 512 or 513): the kernel's, never freed.
    pub(super) fn frames(&self) -> u64 {
        u64::from(self.small.is_some()) + if self.huge.is_some() { 512 } else { 0 }
    }

    /// The 4 KiB zero page's frame, taken from `mem` the first time.
    fn small(&mut self, mem: &mut PhysMem) -> Option<u64> {
        if self.small.is_none() {
            self.small = mem.frames().alloc(0).ok().map(|p| p.0);
        }
        self.small
    }

    /// The huge zero page's first frame, taken from `mem` the first time (an order-9 block;
    /// when none is free the fault falls back to 4 KiB pages, as Linux's does).
    fn huge(&mut self, mem: &mut PhysMem) -> Option<u64> {
        if self.huge.is_none() && mem.buddy().has_block(9) {
            self.huge = mem.frames().alloc(9).ok().map(|p| p.0);
        }
        self.huge
    }
}

impl LinuxKernel {
    /// Maps the 4 KiB zero page read-only at `page` (mm/memory.c `do_anonymous_page`, the
    /// `!(vmf->flags & FAULT_FLAG_WRITE)` branch). `None` if no frame could be had for it.
    pub(super) fn map_zero_page(
        &mut self,
        mem: &mut PhysMem,
        pid: Pid,
        page: VirtAddr,
        prot: Prot,
    ) -> Result<Option<Pfn>, KernelError> {
        let Some(pfn) = self.zero.small(mem) else {
            return Ok(None);
        };
        let p = self.procs.get_mut(pid).ok_or(KernelError::NoProcess(pid))?;
        let flags = perm_flags(prot, false) | PteFlags::PRESENT;
        let _ = p.table.set_pte(mem, page, Pte::new(Pfn(pfn), flags))?;
        Ok(Some(Pfn(pfn)))
    }

    /// Maps the huge zero page read-only at the 2 MiB-aligned `base` (mm/huge_memory.c
    /// `do_huge_pmd_anonymous_page`, `set_huge_zero_folio`). `None` if it cannot be had.
    pub(super) fn map_huge_zero_page(
        &mut self,
        mem: &mut PhysMem,
        pid: Pid,
        base: VirtAddr,
        prot: Prot,
    ) -> Result<Option<Pfn>, KernelError> {
        let Some(pfn) = self.zero.huge(mem) else {
            return Ok(None);
        };
        let p = self.procs.get_mut(pid).ok_or(KernelError::NoProcess(pid))?;
        p.table.map(
            mem,
            base,
            PageSize::SIZE_2M,
            Pfn(pfn),
            perm_flags(prot, false),
        )?;
        p.deposited += 1;
        Ok(Some(Pfn(pfn)))
    }

    /// Replaces the huge zero PMD at `base` with 512 PTEs of the 4 KiB zero page, keeping its
    /// permissions (mm/huge_memory.c `__split_huge_zero_page_pmd`). Nothing is counted as a
    /// THP split: no folio is split.
    pub(super) fn split_huge_zero_pmd(
        &mut self,
        mem: &mut PhysMem,
        pid: Pid,
        base: VirtAddr,
    ) -> Result<(), KernelError> {
        let small =
            self.zero
                .small(mem)
                .ok_or(KernelError::Exhausted(crate::phys::OutOfFrames {
                    frames: 1,
                    total: mem.buddy().total(),
                }))?;
        let p = self.procs.get_mut(pid).ok_or(KernelError::NoProcess(pid))?;
        let old = p.table.unmap(mem, base)?;
        p.deposited = p.deposited.saturating_sub(1);
        let flags = old.pte.flags().difference(PteFlags::HUGE);
        for i in 0..512u64 {
            let va = VirtAddr::new_unchecked(base.as_u64() + i * PAGE);
            let _ = p.table.set_pte(mem, va, Pte::new(Pfn(small), flags))?;
        }
        Ok(())
    }
}
