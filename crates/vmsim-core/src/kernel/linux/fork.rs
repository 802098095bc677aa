//! Creating and copying processes, as kernel/fork.c's `copy_process` and `dup_mmap` with
//! mm/memory.c's `copy_page_range` (Linux 6.18): a child gets the parent's VMAs, its private
//! pages shared copy-on-write (both sides read-only), its shared pages shared and its swap
//! entries referenced twice. As `vma_needs_copy` decides, only VMAs holding anonymous pages
//! (Linux: with an `anon_vma`) have their entries copied; the child faults the rest in from
//! the page cache (or the zero page) when it touches them.
//!
//! Anonymous THPs (and the huge zero page) are shared by PMD, as `copy_huge_pmd` does, not
//! split.
//!
//! Simplified: Linux keeps a VMA's `anon_vma` once any anonymous page was made in it, even
//! after the pages are unmapped (`MADV_DONTNEED`); here a VMA needs copying while it maps an
//! anonymous page or holds a swap entry.

use super::rmap::FrameUse;
use super::swap_state::swap_slot;
use super::{LinuxKernel, VmError};
use crate::addr::{PageSize, Pfn};
use crate::kernel::{KernelError, Pid};
use crate::mmu::Mmu;
use crate::phys::PhysMem;
use crate::pte::{Pte, PteFlags};

/// The frame a leaf of `size` maps (its first frame for a 2 MiB page).
fn leaf_frame(pte: Pte, size: PageSize) -> u64 {
    if size == PageSize::SIZE_4K {
        pte.frame().0
    } else {
        pte.large_frame(size).0
    }
}

impl LinuxKernel {
    /// Creates `pid` with an empty address space (no VMAs) if it does not exist.
    pub fn spawn(&mut self, mem: &mut PhysMem, pid: Pid) -> Result<(), KernelError> {
        self.procs.ensure(mem, pid)
    }

    /// Copies `parent` into a new process `child`: same VMAs; private pages shared
    /// copy-on-write (both sides read-only), shared pages shared, swap entries referenced twice.
    pub fn fork(
        &mut self,
        mem: &mut PhysMem,
        cpus: &mut [Mmu],
        parent: Pid,
        child: Pid,
    ) -> Result<(), VmError> {
        if self.procs.contains(child) {
            return Err(VmError::PidInUse(child));
        }
        self.procs.ensure(mem, child)?;
        let from = self.procs.get(parent).ok_or(VmError::NoProcess(parent))?;
        let space = from.space.clone();
        let mut leaves = Vec::new();
        from.table
            .for_each_leaf(mem, |va, pte, size| leaves.push((va, pte, size)));
        // Which VMAs hold anonymous pages (by start; `None`: the implicit memory outside VMAs,
        // which is anonymous).
        let mut needs_copy = std::collections::BTreeSet::new();
        for &(va, pte, size) in &leaves {
            let anon = swap_slot(pte).is_some()
                || (pte.present()
                    && self
                        .rmap
                        .get(leaf_frame(pte, size))
                        .is_some_and(|f| f.kind == FrameUse::Anon));
            if anon {
                needs_copy.insert(space.find(va).map(|v| v.start));
            }
        }
        let mut parent_changed = false;
        for (va, pte, size) in leaves {
            let vma = space.find(va);
            if !needs_copy.contains(&vma.map(|v| v.start)) {
                continue;
            }
            if size == PageSize::SIZE_2M {
                // copy_huge_pmd: the THP (or the huge zero page) is shared by PMD, read-only on
                // both sides, and the child gets a PTE table deposited for it.
                let pfn = leaf_frame(pte, size);
                let ro = pte.without(PteFlags::WRITABLE);
                if pte.has(PteFlags::WRITABLE) {
                    let pp = self
                        .procs
                        .get_mut(parent)
                        .ok_or(VmError::NoProcess(parent))?;
                    let _ = pp
                        .table
                        .protect(mem, va, ro.flags())
                        .map_err(KernelError::from)?;
                    parent_changed = true;
                }
                self.rmap.add(pfn, child, va.as_u64());
                let c = self.procs.get_mut(child).ok_or(VmError::NoProcess(child))?;
                c.table
                    .map(
                        mem,
                        va,
                        size,
                        Pfn(pfn),
                        ro.flags().difference(PteFlags::HUGE),
                    )
                    .map_err(KernelError::from)?;
                c.deposited += 1;
                continue;
            }
            let shared = vma.is_some_and(|v| v.shared);
            let child_pte = if let Some(slot) = swap_slot(pte) {
                self.swap.dup(slot);
                pte
            } else if pte.present() {
                self.rmap.add(pte.frame().0, child, va.as_u64());
                if shared {
                    pte
                } else {
                    if pte.has(PteFlags::WRITABLE) {
                        // The parent's writes must fault from now on.
                        let ro = pte.without(PteFlags::WRITABLE);
                        if let Some(pp) = self.procs.get_mut(parent) {
                            let _ = pp.table.set_pte(mem, va, ro).map_err(KernelError::from)?;
                        }
                        parent_changed = true;
                    }
                    pte.without(PteFlags::WRITABLE)
                }
            } else {
                continue;
            };
            let c = self.procs.get_mut(child).ok_or(VmError::NoProcess(child))?;
            // The child has never run: no TLB holds its translations.
            let _ = c
                .table
                .set_pte(mem, va, child_pte)
                .map_err(KernelError::from)?;
        }
        if let Some(c) = self.procs.get_mut(child) {
            c.space = space;
        }
        if parent_changed {
            self.flush_tlb(cpus, parent, None);
        }
        Ok(())
    }
}
