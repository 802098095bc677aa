//! The system calls that add and remove VMAs, as mm/mmap.c: `do_mmap` (with
//! `get_unmapped_area` top-down), `do_vmi_munmap`, `brk`, `insert_vm_struct`, `exit_mmap`,
//! `expand_stack` (stack growth on a fault just below it) and `vm_get_page_prot`.

use super::{LinuxKernel, VmError};
use crate::addr::{PageSize, VirtAddr};
use crate::kernel::va_range::{page_round_up, RangeError, VaRange};
use crate::kernel::vma::{Backing, FileId, Prot, Vma, VmaError, PAGE};
use crate::kernel::Pid;
use crate::mmu::Mmu;
use crate::phys::PhysMem;
use crate::pte::PteFlags;

/// Largest stack (RLIMIT_STACK's usual 8 MiB).
const STACK_LIMIT: u64 = 8 << 20;
/// Gap kept below a stack that grows (Linux's `stack_guard_gap`, 256 pages).
const STACK_GUARD: u64 = 256 * PAGE;

/// Leaf flags for a page of a VMA with `prot`, writable or not.
pub(super) fn perm_flags(prot: Prot, writable: bool) -> PteFlags {
    let mut f = PteFlags::USER;
    if writable {
        f |= PteFlags::WRITABLE;
    }
    if !prot.exec {
        f |= PteFlags::NO_EXECUTE;
    }
    f
}

/// What `mmap` is asked for: its arguments, checked by [`LinuxKernel::mmap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MmapRequest {
    /// Where (exact, must be free and page aligned), or `None` for the highest free range
    /// below the process's mmap base (the top-down layout).
    pub addr: Option<u64>,
    /// Bytes, rounded up to pages.
    pub len: u64,
    /// Rights.
    pub prot: Prot,
    /// `MAP_SHARED` rather than `MAP_PRIVATE`.
    pub shared: bool,
    /// The file and its page offset, or `None` for anonymous memory.
    pub file: Option<(FileId, u64)>,
}

impl MmapRequest {
    /// Private anonymous memory of `len` bytes with `prot`, placed by the kernel.
    pub fn anon(len: u64, prot: Prot) -> Self {
        MmapRequest {
            addr: None,
            len,
            prot,
            shared: false,
            file: None,
        }
    }

    /// The same request at the fixed address `addr`.
    pub fn at(self, addr: u64) -> Self {
        MmapRequest {
            addr: Some(addr),
            ..self
        }
    }
}

impl LinuxKernel {
    /// Maps `req.len` bytes (rounded up to pages) at `req.addr` (exact, must be free) or,
    /// without an address, at the highest free range below `top` (the top-down mmap layout).
    /// Returns the start address.
    pub fn mmap(&mut self, mem: &mut PhysMem, pid: Pid, req: MmapRequest) -> Result<u64, VmError> {
        let MmapRequest {
            addr,
            len,
            prot,
            shared,
            file,
        } = req;
        self.procs.ensure(mem, pid)?;
        let fixed = addr.map(|a| VaRange::pages(a, len)).transpose()?;
        let len = page_round_up(len).ok_or(RangeError::Overflow {
            start: addr.unwrap_or(0),
            len,
        })?;
        let p = self.procs.get_mut(pid).ok_or(VmError::NoProcess(pid))?;
        // Processes made from a trace have no layout: map below where Linux would start.
        let top = p.layout.map_or(0x7f00_0000_0000, |l| l.mmap_base);
        let start = match fixed {
            Some(r) => r.start(),
            None => p.space.find_gap_below(top, 0x1_0000_0000, len)?,
        };
        let backing = match file {
            Some((file, offset)) => Backing::File { file, offset },
            // Shared anonymous memory is a file of its own (Linux's shmem).
            None if shared => Backing::File {
                file: self.page_cache.new_shmem_file(),
                offset: 0,
            },
            None => Backing::Anon,
        };
        p.space.insert(Vma {
            start,
            end: start + len,
            prot,
            shared,
            backing,
            grows_down: false,
            huge: false,
            name: if file.is_some() { "file" } else { "anon" },
        })?;
        Ok(start)
    }

    /// A new file id for mappings.
    pub fn new_file(&mut self) -> FileId {
        self.page_cache.new_file()
    }

    /// Adds a VMA as given (layouts, stacks).
    pub fn add_vma(&mut self, mem: &mut PhysMem, pid: Pid, v: Vma) -> Result<(), VmError> {
        self.procs.ensure(mem, pid)?;
        let p = self.procs.get_mut(pid).ok_or(VmError::NoProcess(pid))?;
        p.space.insert(v)?;
        Ok(())
    }

    /// Removes `range` from `pid`'s address space, freeing its pages and the page-table pages
    /// that became empty, and invalidating TLBs.
    pub fn munmap(
        &mut self,
        mem: &mut PhysMem,
        cpus: &mut [Mmu],
        pid: Pid,
        range: VaRange,
    ) -> Result<(), VmError> {
        let (start, end) = (range.start(), range.end());
        self.split_range(mem, cpus, pid, start, end)?;
        let p = self.procs.get_mut(pid).ok_or(VmError::NoProcess(pid))?;
        p.space.remove_range(start, end);
        self.zap_range(mem, cpus, pid, start, end)?;
        Ok(())
    }

    /// `brk`: moves the end of the heap to `new_end` (rounded up to a page) and returns the new
    /// break. Shrinking unmaps the pages above it; an end that rounds past 2^64 is refused.
    pub fn brk(
        &mut self,
        mem: &mut PhysMem,
        cpus: &mut [Mmu],
        pid: Pid,
        new_end: u64,
    ) -> Result<u64, VmError> {
        let p = self.procs.get(pid).ok_or(VmError::NoProcess(pid))?;
        let start = p.layout.ok_or(VmError::Vma(VmaError::NoSpace(0)))?.brk;
        let heap = *p
            .space
            .find(VirtAddr::new_unchecked(start))
            .ok_or(VmError::Vma(VmaError::NoSpace(0)))?;
        let end = VaRange::pages(start, new_end.max(start + PAGE) - start)?.end();
        if end > heap.end && p.space.overlaps(heap.end, end) {
            return Err(VmError::Vma(VmaError::Overlap {
                start: heap.end,
                end,
            }));
        }
        if end < heap.end {
            self.munmap(mem, cpus, pid, VaRange::pages(end, heap.end - end)?)?;
            // munmap split the heap; put its remaining piece back as the heap.
        }
        if let Some(p) = self.procs.get_mut(pid) {
            p.space.set_end(heap.start, end);
        }
        Ok(end)
    }

    /// Every leaf entry of `pid`'s page table with its page size (huge pages stay whole: others
    /// may map them by PMD since fork): what tearing down its whole address space (exit, exec)
    /// unmaps.
    pub(super) fn every_leaf(
        &self,
        mem: &PhysMem,
        pid: Pid,
    ) -> Result<Vec<(VirtAddr, crate::pte::Pte, PageSize)>, VmError> {
        let mut leaves = Vec::new();
        self.procs
            .get(pid)
            .ok_or(VmError::NoProcess(pid))?
            .table
            .for_each_leaf(mem, |va, pte, size| leaves.push((va, pte, size)));
        Ok(leaves)
    }

    /// Ends `pid`: unmaps everything, frees its anonymous pages, page tables and swap slots.
    pub fn exit(&mut self, mem: &mut PhysMem, cpus: &mut [Mmu], pid: Pid) -> Result<(), VmError> {
        for (va, pte, size) in self.every_leaf(mem, pid)? {
            self.release(pid, va, pte, size);
        }
        self.flush_tlb(cpus, pid, None);
        if let Some(p) = self.procs.remove(pid) {
            p.table.destroy(mem);
        }
        // Pages no one maps any more are freed (anonymous) or stay cached (file).
        self.free_unmapped(mem);
        Ok(())
    }

    /// Grows the stack VMA just above `va` down to `page`, if it grows down and stays within
    /// RLIMIT_STACK and the guard gap above the VMA below; returns the grown VMA.
    pub(super) fn expand_stack(&mut self, pid: Pid, va: VirtAddr, page: VirtAddr) -> Option<Vma> {
        let p = self.procs.get_mut(pid)?;
        let s = p.space.next_above(va).filter(|s| {
            s.grows_down
                && s.end - page.as_u64() <= STACK_LIMIT
                && p.space
                    .prev_below(va)
                    .is_none_or(|b| b.end + STACK_GUARD <= page.as_u64())
        })?;
        let (start, mut v) = (s.start, *s);
        v.start = page.as_u64();
        p.space.grow_down(start, page.as_u64());
        self.stats.stack_growths += 1;
        Some(v)
    }
}
