//! A Linux-like virtual memory manager: processes with VMAs, a page-fault handler that resolves
//! faults the way Linux's `handle_mm_fault` does (demand zero, page cache with readahead, swap
//! cache and swap-in with readahead, copy-on-write after fork, stack growth, SIGSEGV), and
//! reclaim under memory pressure with a pluggable policy, reverse mapping, swap-out and
//! writeback, and the OOM killer as the last resort.
//!
//! Anonymous pages that are swapped out keep their place in the page table as a non-present
//! entry holding the swap slot, as Linux's swap entries do: bit 0 (P) clear, bit 9 set as the
//! model's swap marker, the slot in bits 12 and up.

use super::layout::{Image, Layout};
use super::reclaim::{ReclaimPolicy, Reclaimer};
use super::swap::{Slot, SwapDevice};
use super::vma::{AddressSpace, Backing, FileId, Prot, Vma, VmaError, PAGE};
use super::{Kernel, KernelError, Pid};
use crate::access::AccessKind;
use crate::addr::{PageSize, Pfn, PhysAddr, VirtAddr};
use crate::event::{Fault, Resolution};
use crate::mmu::Mmu;
use crate::phys::PhysMem;
use crate::pte::{Pte, PteFlags};
use crate::radix::{Flush, Geometry, RadixTable, WalkFault};
use crate::tlb::{InvpcidKind, Pcid};
use rustc_hash::FxHashMap;
use serde::Serialize;
use std::collections::BTreeMap;

/// Marks a non-present PTE as a swap entry (an ignored bit, like Linux's own encoding).
const SWAP_MARK: u64 = 1 << 9;
/// File ids with this bit are the shmem files behind shared anonymous mappings.
const SHMEM_FILE: FileId = 1 << 31;
/// Largest stack (RLIMIT_STACK's usual 8 MiB).
const STACK_LIMIT: u64 = 8 << 20;
/// Gap kept below a stack that grows (Linux's `stack_guard_gap`, 256 pages).
const STACK_GUARD: u64 = 256 * PAGE;

fn swap_pte(slot: Slot) -> Pte {
    Pte::from_raw(SWAP_MARK | ((slot as u64 + 1) << 12))
}

fn swap_slot(p: Pte) -> Option<Slot> {
    (!p.present() && p.raw() & SWAP_MARK != 0).then(|| ((p.raw() >> 12) - 1) as Slot)
}

/// How the kernel is set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LinuxConfig {
    /// Which pages reclaim evicts.
    pub policy: ReclaimPolicy,
    /// Swap device size in pages (0: no swap).
    pub swap_pages: u32,
    /// Swap readahead window in pages (0: off).
    pub swap_readahead: u32,
    /// File readahead window in pages (0: off).
    pub file_readahead: u32,
    /// A fault outside every VMA is treated as private anonymous `rwx` memory: how a trace
    /// without a memory map replays.
    pub implicit_anon: bool,
}

impl Default for LinuxConfig {
    fn default() -> Self {
        LinuxConfig {
            policy: ReclaimPolicy::TwoList,
            swap_pages: 0,
            swap_readahead: 8,
            file_readahead: 32,
            implicit_anon: true,
        }
    }
}

/// Per-process counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ProcStats {
    /// Minor faults (no I/O).
    pub minor_faults: u64,
    /// Major faults (read from file or swap).
    pub major_faults: u64,
    /// Copy-on-write faults that copied a page.
    pub cow_copies: u64,
    /// Copy-on-write faults that reused the page (last mapper).
    pub cow_reuses: u64,
    /// Accesses refused with SIGSEGV.
    pub segv: u64,
}

/// System-wide counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct KernelStats {
    /// Minor faults.
    pub minor_faults: u64,
    /// Major faults.
    pub major_faults: u64,
    /// Zero-filled pages.
    pub demand_zero: u64,
    /// COW copies.
    pub cow_copies: u64,
    /// COW reuses.
    pub cow_reuses: u64,
    /// SIGSEGVs.
    pub segv: u64,
    /// Stack growths.
    pub stack_growths: u64,
    /// Pages read from swap.
    pub swap_ins: u64,
    /// Pages written to swap.
    pub swap_outs: u64,
    /// Faults that found their page in the swap cache.
    pub swap_cache_hits: u64,
    /// Pages read from files.
    pub file_reads: u64,
    /// Faults that found their page in the page cache.
    pub page_cache_hits: u64,
    /// Readahead pages later used by a fault.
    pub readahead_hits: u64,
    /// Pages read ahead.
    pub readahead_pages: u64,
    /// Dirty file pages written back.
    pub writebacks: u64,
    /// Pages scanned by reclaim.
    pub reclaim_scanned: u64,
    /// Pages reclaimed.
    pub reclaim_stolen: u64,
    /// Reclaim runs started because an allocation found memory below the low watermark.
    pub direct_reclaims: u64,
    /// Background (kswapd-style) reclaim runs.
    pub background_reclaims: u64,
    /// TLB invalidations sent to other CPUs.
    pub shootdowns: u64,
    /// Processes killed by the OOM killer.
    pub oom_kills: u64,
    /// Transparent huge pages allocated.
    pub thp_allocs: u64,
    /// Transparent huge pages split into 4 KiB pages (partial unmap, COW, reclaim, fork).
    pub thp_splits: u64,
    /// Faults outside every VMA that were served as anonymous memory because the kernel runs
    /// with [`LinuxConfig::implicit_anon`] (with a saved layout: accesses the layout misses).
    pub outside_vmas: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FrameUse {
    Anon,
    File { file: FileId, index: u64 },
}

#[derive(Debug, Clone)]
struct Frame {
    kind: FrameUse,
    /// (process, page address) of every PTE that maps it: the reverse map.
    mappers: Vec<(Pid, u64)>,
    /// Content identity: the version of the last simulated store.
    content: u64,
    /// Differs from its backing copy (swap slot or file).
    dirty: bool,
    /// The swap slot holding a clean copy (the swap cache).
    swap: Option<Slot>,
    /// Read ahead and not yet used by a fault.
    readahead: bool,
    /// Buddy order: 0 for a 4 KiB page, 9 for a transparent huge page.
    order: u8,
    /// A huge page's content identity per 4 KiB subpage.
    sub: Option<Box<[u64]>>,
}

#[derive(Debug)]
struct Process {
    space: AddressSpace,
    /// Where exec put things (None for processes made implicitly from a trace).
    layout: Option<Layout>,
    table: RadixTable,
    pcid: Pcid,
    /// CPUs that have run it (whose TLBs may hold its translations).
    cpus: u64,
    stats: ProcStats,
}

/// Memory use of one process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ProcMemory {
    /// Process id.
    pub pid: Pid,
    /// Virtual size of its VMAs, KiB.
    pub vsz_kib: u64,
    /// Resident anonymous pages, KiB.
    pub rss_anon_kib: u64,
    /// Resident file pages, KiB.
    pub rss_file_kib: u64,
    /// Resident shared anonymous memory (shmem), KiB.
    pub rss_shmem_kib: u64,
    /// Pages in swap, KiB.
    pub swap_kib: u64,
    /// Page-table pages, KiB.
    pub page_table_kib: u64,
    /// Its fault counters.
    pub stats: ProcStats,
}

/// The Linux-like kernel.
pub struct LinuxKernel {
    geom: Geometry,
    cfg: LinuxConfig,
    procs: BTreeMap<Pid, Process>,
    frames: FxHashMap<u64, Frame>,
    swap: SwapDevice,
    /// (file, page index) → frame.
    page_cache: FxHashMap<(FileId, u64), u64>,
    /// (file, page index) → content version on disk.
    disk: FxHashMap<(FileId, u64), u64>,
    reclaim: Reclaimer,
    stats: KernelStats,
    /// Free frames below which reclaim starts, and the level it reclaims to.
    low: u64,
    high: u64,
    next_pcid: u16,
    next_file: FileId,
    killed: Vec<Pid>,
    /// The VMAs every new process starts with (a saved layout), empty by default.
    initial: AddressSpace,
}

/// What an operation on an address space refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VmError {
    /// No such process.
    #[error("no process {0}")]
    NoProcess(Pid),
    /// A VMA operation failed.
    #[error(transparent)]
    Vma(#[from] VmaError),
    /// The kernel could not go on.
    #[error(transparent)]
    Kernel(#[from] KernelError),
}

impl LinuxKernel {
    /// Whether this kernel can run a machine described by `cfg`: it maps x86-64 4 KiB pages
    /// only (huge pages come from THP), so 2M/1G page-size policies and teaching geometries
    /// need the demand-zero kernel.
    pub fn supports(cfg: &crate::config::MachineConfig) -> bool {
        cfg.page_size == PageSize::SIZE_4K && cfg.geometry().is_ok_and(|g| g.is_x86())
    }

    /// A kernel for a machine of `total_frames` frames with page tables of `geom`.
    pub fn new(geom: Geometry, cfg: LinuxConfig, total_frames: u64) -> Self {
        // Watermarks scaled like Linux's min_free_kbytes defaults, with floors for tiny RAM.
        let low = (total_frames / 256).max(8);
        LinuxKernel {
            geom,
            cfg,
            procs: BTreeMap::new(),
            frames: FxHashMap::default(),
            swap: SwapDevice::new(cfg.swap_pages),
            page_cache: FxHashMap::default(),
            disk: FxHashMap::default(),
            reclaim: Reclaimer::new(cfg.policy),
            stats: KernelStats::default(),
            low,
            high: low + low / 2 + 1,
            next_pcid: 1,
            next_file: 1,
            killed: Vec::new(),
            initial: AddressSpace::default(),
        }
    }

    /// Makes every process created from now on start with the VMAs of `space`, as if it had
    /// been forked from the process they were saved from but without its pages: a trace then
    /// replays in that process's real layout.
    pub fn start_processes_with(&mut self, space: AddressSpace) {
        self.initial = space;
    }

    /// System-wide counters.
    pub fn stats(&self) -> KernelStats {
        KernelStats {
            reclaim_scanned: self.reclaim.scanned,
            ..self.stats
        }
    }

    /// The configuration.
    pub fn config(&self) -> &LinuxConfig {
        &self.cfg
    }

    /// Swap slots in use.
    pub fn swap_used(&self) -> u32 {
        self.swap.used()
    }

    /// Processes killed by the OOM killer, in order.
    pub fn oom_victims(&self) -> &[Pid] {
        &self.killed
    }

    /// The VMAs of `pid`.
    pub fn vmas(&self, pid: Pid) -> Option<&AddressSpace> {
        self.procs.get(&pid).map(|p| &p.space)
    }

    /// The page table of `pid`.
    pub fn table(&self, pid: Pid) -> Option<&RadixTable> {
        self.procs.get(&pid).map(|p| &p.table)
    }

    /// Resident frames the kernel manages (data, not page tables).
    pub fn resident_frames(&self) -> usize {
        self.frames.len()
    }

    fn ensure_process(&mut self, mem: &mut PhysMem, pid: Pid) -> Result<(), KernelError> {
        if self.procs.contains_key(&pid) {
            return Ok(());
        }
        let table = RadixTable::new(self.geom, mem)?;
        let pcid = Pcid::try_new(self.next_pcid).unwrap_or(Pcid::ZERO);
        self.next_pcid = if self.next_pcid >= 4095 {
            1
        } else {
            self.next_pcid + 1
        };
        self.procs.insert(
            pid,
            Process {
                space: self.initial.clone(),
                layout: None,
                table,
                pcid,
                cpus: 0,
                stats: ProcStats::default(),
            },
        );
        Ok(())
    }

    /// Creates `pid` with an empty address space (no VMAs) if it does not exist.
    pub fn spawn(&mut self, mem: &mut PhysMem, pid: Pid) -> Result<(), KernelError> {
        self.ensure_process(mem, pid)
    }

    /// Maps `len` bytes (rounded up to pages) at `addr` (exact, must be free) or, without an
    /// address, at the highest free range below `top` (the top-down mmap layout). Returns the
    /// start address.
    #[allow(clippy::too_many_arguments)]
    pub fn mmap(
        &mut self,
        mem: &mut PhysMem,
        pid: Pid,
        addr: Option<u64>,
        len: u64,
        prot: Prot,
        shared: bool,
        file: Option<(FileId, u64)>,
    ) -> Result<u64, VmError> {
        self.ensure_process(mem, pid)?;
        let len = len.div_ceil(PAGE) * PAGE;
        let p = self.procs.get_mut(&pid).ok_or(VmError::NoProcess(pid))?;
        // Processes made from a trace have no layout: map below where Linux would start.
        let top = p.layout.map_or(0x7f00_0000_0000, |l| l.mmap_base);
        let start = match addr {
            Some(a) => a,
            None => p.space.find_gap_below(top, 0x1_0000_0000, len)?,
        };
        let backing = match file {
            Some((file, offset)) => Backing::File { file, offset },
            // Shared anonymous memory is a file of its own (Linux's shmem).
            None if shared => {
                let f = self.next_file;
                self.next_file += 1;
                Backing::File {
                    file: SHMEM_FILE | f,
                    offset: 0,
                }
            }
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

    /// `execve`: replaces `pid`'s address space (creating the process if needed) with a fresh
    /// Linux x86-64 layout for `image`, randomised from `seed` when `aslr` is on.
    #[allow(clippy::too_many_arguments)]
    pub fn exec(
        &mut self,
        mem: &mut PhysMem,
        cpus: &mut [Mmu],
        pid: Pid,
        image: Image,
        aslr: bool,
        seed: u64,
    ) -> Result<Layout, VmError> {
        if self.procs.contains_key(&pid) {
            self.split_range(mem, cpus, pid, 0, u64::MAX)?;
            // The old address space goes, as on exec; the process (pid, PCID) stays.
            let mut leaves = Vec::new();
            self.procs[&pid]
                .table
                .for_each_leaf(mem, |va, pte, _| leaves.push((va, pte)));
            for (va, pte) in leaves {
                if let Some(p) = self.procs.get_mut(&pid) {
                    let _ = p
                        .table
                        .set_pte(mem, va, Pte::EMPTY)
                        .map_err(KernelError::from)?;
                }
                self.release(pid, va, pte);
            }
            self.free_unmapped(mem);
            self.flush_range(cpus, pid, None);
        }
        self.ensure_process(mem, pid)?;
        let layout = Layout::new(image, aslr, seed);
        let p = self.procs.get_mut(&pid).ok_or(VmError::NoProcess(pid))?;
        p.space = AddressSpace::default();
        for v in layout.vmas(image) {
            p.space.insert(v)?;
        }
        p.layout = Some(layout);
        Ok(layout)
    }

    /// The layout exec chose for `pid`.
    pub fn layout(&self, pid: Pid) -> Option<Layout> {
        self.procs.get(&pid).and_then(|p| p.layout)
    }

    /// `brk`: moves the end of the heap to `new_end` (rounded up to a page) and returns the new
    /// break. Shrinking unmaps the pages above it.
    pub fn brk(
        &mut self,
        mem: &mut PhysMem,
        cpus: &mut [Mmu],
        pid: Pid,
        new_end: u64,
    ) -> Result<u64, VmError> {
        let p = self.procs.get(&pid).ok_or(VmError::NoProcess(pid))?;
        let start = p.layout.ok_or(VmError::Vma(VmaError::NoSpace(0)))?.brk;
        let heap = *p
            .space
            .find(VirtAddr::new_unchecked(start))
            .ok_or(VmError::Vma(VmaError::NoSpace(0)))?;
        let end = new_end.max(start + PAGE).div_ceil(PAGE) * PAGE;
        if end > heap.end && p.space.overlaps(heap.end, end) {
            return Err(VmError::Vma(VmaError::Overlap {
                start: heap.end,
                end,
            }));
        }
        if end < heap.end {
            self.munmap(mem, cpus, pid, end, heap.end - end)?;
            // munmap split the heap; put its remaining piece back as the heap.
        }
        if let Some(p) = self.procs.get_mut(&pid) {
            p.space.set_end(heap.start, end);
        }
        Ok(end)
    }

    /// `madvise(MADV_DONTNEED)`: drops the pages of `[start, start + len)`; the VMAs stay, and
    /// anonymous pages read back as zero on the next touch.
    pub fn madvise_dontneed(
        &mut self,
        mem: &mut PhysMem,
        cpus: &mut [Mmu],
        pid: Pid,
        start: u64,
        len: u64,
    ) -> Result<(), VmError> {
        let end = start + len.div_ceil(PAGE) * PAGE;
        self.split_range(mem, cpus, pid, start, end)?;
        self.zap_range(mem, cpus, pid, start, end)?;
        Ok(())
    }

    /// Adds a VMA as given (layouts, stacks).
    pub fn add_vma(&mut self, mem: &mut PhysMem, pid: Pid, v: Vma) -> Result<(), VmError> {
        self.ensure_process(mem, pid)?;
        let p = self.procs.get_mut(&pid).ok_or(VmError::NoProcess(pid))?;
        p.space.insert(v)?;
        Ok(())
    }

    /// A new file id for mappings.
    pub fn new_file(&mut self) -> FileId {
        let f = self.next_file;
        self.next_file += 1;
        f
    }

    /// Removes `[start, start + len)` from `pid`'s address space, freeing its pages and the
    /// page-table pages that became empty, and invalidating TLBs.
    pub fn munmap(
        &mut self,
        mem: &mut PhysMem,
        cpus: &mut [Mmu],
        pid: Pid,
        start: u64,
        len: u64,
    ) -> Result<(), VmError> {
        let end = start + len.div_ceil(PAGE) * PAGE;
        self.split_range(mem, cpus, pid, start, end)?;
        let p = self.procs.get_mut(&pid).ok_or(VmError::NoProcess(pid))?;
        p.space.remove_range(start, end);
        self.zap_range(mem, cpus, pid, start, end)?;
        Ok(())
    }

    /// Changes the protection of `[start, start + len)`.
    pub fn mprotect(
        &mut self,
        mem: &mut PhysMem,
        cpus: &mut [Mmu],
        pid: Pid,
        start: u64,
        len: u64,
        prot: Prot,
    ) -> Result<(), VmError> {
        let end = start + len.div_ceil(PAGE) * PAGE;
        self.split_range(mem, cpus, pid, start, end)?;
        let p = self.procs.get_mut(&pid).ok_or(VmError::NoProcess(pid))?;
        let pieces = p.space.modify_range(start, end, |v| v.prot = prot);
        let mut va = start;
        while va < end {
            let v = VirtAddr::new_unchecked(va);
            let p = self.procs.get_mut(&pid).ok_or(VmError::NoProcess(pid))?;
            if let Some(pte) = p.table.pte(mem, v).filter(|e| e.present()) {
                let pfn = pte.frame().0;
                let shared = pieces.iter().any(|x| x.contains(va) && x.shared);
                let exclusive = self
                    .frames
                    .get(&pfn)
                    .is_some_and(|f| f.mappers.len() == 1 && f.kind == FrameUse::Anon);
                let w = prot.write && (shared || exclusive);
                let new = pte.with_permissions(perm_flags(prot, w));
                let _ = p.table.set_pte(mem, v, new).map_err(KernelError::from)?;
            }
            va += PAGE;
        }
        self.flush_range(cpus, pid, None);
        Ok(())
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
        if self.procs.contains_key(&child) {
            return Err(VmError::Vma(VmaError::Overlap { start: 0, end: 0 }));
        }
        self.split_range(mem, cpus, parent, 0, u64::MAX)?;
        self.ensure_process(mem, child)?;
        let space = self
            .procs
            .get(&parent)
            .ok_or(VmError::NoProcess(parent))?
            .space
            .clone();
        let mut leaves = Vec::new();
        self.procs[&parent]
            .table
            .for_each_leaf(mem, |va, pte, _| leaves.push((va, pte)));
        let mut parent_changed = false;
        for (va, pte) in leaves {
            let shared = space.find(va).is_some_and(|v| v.shared);
            let child_pte = if let Some(slot) = swap_slot(pte) {
                self.swap.dup(slot);
                pte
            } else if pte.present() {
                let pfn = pte.frame().0;
                if let Some(f) = self.frames.get_mut(&pfn) {
                    f.mappers.push((child, va.as_u64()));
                }
                if shared {
                    pte
                } else {
                    if pte.has(PteFlags::WRITABLE) {
                        // The parent's writes must fault from now on.
                        let ro = pte.without(PteFlags::WRITABLE);
                        if let Some(pp) = self.procs.get_mut(&parent) {
                            let _ = pp.table.set_pte(mem, va, ro).map_err(KernelError::from)?;
                        }
                        parent_changed = true;
                    }
                    pte.without(PteFlags::WRITABLE)
                }
            } else {
                continue;
            };
            let c = self
                .procs
                .get_mut(&child)
                .ok_or(VmError::NoProcess(child))?;
            // The child has never run: no TLB holds its translations.
            let _ = c
                .table
                .set_pte(mem, va, child_pte)
                .map_err(KernelError::from)?;
        }
        if let Some(c) = self.procs.get_mut(&child) {
            c.space = space;
        }
        if parent_changed {
            self.flush_range(cpus, parent, None);
        }
        Ok(())
    }

    /// Ends `pid`: unmaps everything, frees its anonymous pages, page tables and swap slots.
    pub fn exit(&mut self, mem: &mut PhysMem, cpus: &mut [Mmu], pid: Pid) -> Result<(), VmError> {
        self.split_range(mem, cpus, pid, 0, u64::MAX)?;
        let mut leaves = Vec::new();
        self.procs
            .get(&pid)
            .ok_or(VmError::NoProcess(pid))?
            .table
            .for_each_leaf(mem, |va, pte, _| leaves.push((va, pte)));
        for (va, pte) in leaves {
            self.release(pid, va, pte);
        }
        self.flush_range(cpus, pid, None);
        if let Some(p) = self.procs.remove(&pid) {
            p.table.destroy(mem);
        }
        // Pages no one maps any more are freed (anonymous) or stay cached (file).
        self.free_unmapped(mem);
        Ok(())
    }

    /// Records a simulated store of `version` at `va` (the page must be present and
    /// writable: write to it through the machine first). Used to check that no data is lost.
    pub fn store(&mut self, mem: &PhysMem, pid: Pid, va: VirtAddr, version: u64) -> bool {
        let Some((pfn, sub)) = self.frame_of(mem, pid, va, true) else {
            return false;
        };
        match self.frames.get_mut(&pfn) {
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

    /// The frame mapping `va` (and the 4 KiB subpage index inside a huge page), if present
    /// (and writable, when asked).
    fn frame_of(
        &self,
        mem: &PhysMem,
        pid: Pid,
        va: VirtAddr,
        writable: bool,
    ) -> Option<(u64, Option<usize>)> {
        let (pte, size) = self.procs.get(&pid)?.table.lookup(mem, va)?;
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

    /// The content version of the present page at `va` (read it through the machine first).
    pub fn load(&self, mem: &PhysMem, pid: Pid, va: VirtAddr) -> Option<u64> {
        let (pfn, sub) = self.frame_of(mem, pid, va, false)?;
        self.frames.get(&pfn).map(|f| match (&f.sub, sub) {
            (Some(s), Some(i)) => s[i],
            _ => f.content,
        })
    }

    /// Memory use of every process.
    pub fn memory(&self, mem: &PhysMem) -> Vec<ProcMemory> {
        self.procs
            .iter()
            .map(|(&pid, p)| {
                let mut m = ProcMemory {
                    pid,
                    vsz_kib: p.space.iter().map(|v| (v.end - v.start) / 1024).sum(),
                    page_table_kib: p.table.total_table_pages() * 4,
                    stats: p.stats,
                    ..Default::default()
                };
                p.table.for_each_leaf(mem, |_, pte, size| {
                    let kib = size.bytes() / 1024;
                    if swap_slot(pte).is_some() {
                        m.swap_kib += 4;
                    } else if pte.present() {
                        let pfn = if size == PageSize::SIZE_4K {
                            pte.frame()
                        } else {
                            pte.large_frame(size)
                        };
                        match self.frames.get(&pfn.0).map(|f| f.kind) {
                            Some(FrameUse::File { file, .. }) if file & SHMEM_FILE != 0 => {
                                m.rss_shmem_kib += kib
                            }
                            Some(FrameUse::File { .. }) => m.rss_file_kib += kib,
                            _ => m.rss_anon_kib += kib,
                        }
                    }
                });
                m
            })
            .collect()
    }

    // ----- internals -----

    /// Invalidates `pid`'s translations on every CPU that has run it: one page or all.
    fn flush_range(&mut self, cpus: &mut [Mmu], pid: Pid, page: Option<Flush>) {
        let Some(p) = self.procs.get(&pid) else {
            return;
        };
        let (mask, pcid) = (p.cpus, p.pcid);
        for (i, c) in cpus.iter_mut().enumerate() {
            if mask & (1 << (i % 64)) == 0 {
                continue;
            }
            let running_here = c.cr3().is_some_and(|(_, pc)| pc == pcid);
            if !running_here {
                self.stats.shootdowns += 1;
            }
            match page {
                Some(f) => c.invpcid(InvpcidKind::IndividualAddress, pcid, f.va),
                None => c.invpcid(InvpcidKind::SingleContext, pcid, VirtAddr::new_unchecked(0)),
            }
        }
    }

    /// Drops the mappings of `[start, end)` and invalidates the TLBs once if any existed.
    fn zap_range(
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
            self.flush_range(cpus, pid, None);
        }
        Ok(())
    }

    /// Drops the mapping of one page of `pid` (munmap). Returns whether there was one.
    fn zap(&mut self, mem: &mut PhysMem, pid: Pid, va: VirtAddr) -> Result<bool, KernelError> {
        let Some(p) = self.procs.get_mut(&pid) else {
            return Ok(false);
        };
        let Some(pte) = p.table.pte(mem, va).filter(|e| e.raw() != 0) else {
            return Ok(false);
        };
        let _ = p.table.set_pte(mem, va, Pte::EMPTY)?;
        self.release(pid, va, pte);
        self.free_unmapped(mem);
        Ok(true)
    }

    /// Forgets one PTE's reference to its frame or swap slot.
    fn release(&mut self, pid: Pid, va: VirtAddr, pte: Pte) {
        if let Some(slot) = swap_slot(pte) {
            self.put_slot(slot);
        } else if pte.present() {
            if let Some(f) = self.frames.get_mut(&pte.frame().0) {
                if pte.has(PteFlags::DIRTY) {
                    f.dirty = true;
                }
                f.mappers.retain(|&(q, a)| !(q == pid && a == va.as_u64()));
            }
        }
    }

    /// Drops a reference to a swap slot; a freed slot leaves its cached frame dirty.
    fn put_slot(&mut self, slot: Slot) {
        let cached = self.swap.cached(slot);
        if self.swap.put(slot) {
            if let Some(f) = cached.and_then(|pfn| self.frames.get_mut(&pfn)) {
                f.swap = None;
                f.dirty = true;
            }
        }
    }

    /// Frees anonymous frames nobody maps and whose swap copy (if any) nobody references.
    fn free_unmapped(&mut self, mem: &mut PhysMem) {
        let orphans: Vec<u64> = self
            .frames
            .iter()
            .filter(|(_, f)| f.mappers.is_empty() && f.kind == FrameUse::Anon)
            .filter(|(_, f)| f.swap.is_none_or(|s| self.swap.refs(s) == 0))
            .map(|(&p, _)| p)
            .collect();
        for pfn in orphans {
            let mut order = 0;
            if let Some(f) = self.frames.remove(&pfn) {
                if let Some(s) = f.swap {
                    self.swap.cache_remove(s);
                }
                order = f.order;
            }
            self.reclaim.remove(pfn);
            mem.frames().free(Pfn(pfn), order);
        }
    }

    /// Allocates a frame, reclaiming first when free memory is below the low watermark, and
    /// killing the largest process when nothing can be reclaimed.
    fn alloc_frame(
        &mut self,
        mem: &mut PhysMem,
        cpus: &mut [Mmu],
        faulting: Pid,
    ) -> Result<Option<u64>, KernelError> {
        loop {
            if mem.buddy().free_frames() < self.low {
                self.stats.direct_reclaims += 1;
                self.reclaim_to(mem, cpus, self.high);
            }
            // Keep a few frames for page tables.
            if mem.buddy().free_frames() > 4 {
                if let Ok(p) = mem.frames().alloc(0) {
                    return Ok(Some(p.0));
                }
            }
            // Out of memory: kill the process with the most resident pages.
            let rss = |p: &Process| {
                let mut n = 0u64;
                p.table
                    .for_each_leaf(mem, |_, e, _| n += e.present() as u64);
                n
            };
            let victim = self
                .procs
                .iter()
                .max_by_key(|(pid, p)| (rss(p), **pid))
                .map(|(&pid, _)| pid);
            let Some(v) = victim else {
                return Err(KernelError::OutOfMemory(crate::phys::OutOfFrames {
                    frames: 1,
                    total: mem.buddy().total(),
                }));
            };
            self.stats.oom_kills += 1;
            self.killed.push(v);
            let _ = self.exit(mem, cpus, v);
            if v == faulting {
                return Ok(None);
            }
        }
    }

    /// Reclaims until `target` frames are free or nothing more can go.
    fn reclaim_to(&mut self, mem: &mut PhysMem, cpus: &mut [Mmu], target: u64) {
        let mut budget = self.reclaim.len() * 2 + 8;
        while mem.buddy().free_frames() < target && budget > 0 {
            budget -= 1;
            let procs = &mut self.procs;
            let frames = &self.frames;
            let Some(pfn) = self.reclaim.victim(|pfn| {
                let mut young = false;
                if let Some(f) = frames.get(&pfn) {
                    for &(pid, va) in &f.mappers {
                        if let Some(p) = procs.get_mut(&pid) {
                            let v = VirtAddr::new_unchecked(va);
                            if let Some(e) =
                                p.table.pte(mem, v).filter(|e| e.has(PteFlags::ACCESSED))
                            {
                                young = true;
                                let _ = p.table.set_pte(mem, v, e.without(PteFlags::ACCESSED));
                            }
                        }
                    }
                }
                young
            }) else {
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
            }
        }
    }

    /// Unmaps `pfn` from every page table (reverse mapping), writes it out if needed, frees it.
    fn evict(&mut self, mem: &mut PhysMem, cpus: &mut [Mmu], pfn: u64) -> bool {
        if self.frames.get(&pfn).is_some_and(|f| f.order > 0) {
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
        let Some(f) = self.frames.get(&pfn).cloned() else {
            return false;
        };
        let mut dirty = f.dirty;
        for &(pid, va) in &f.mappers {
            if let Some(e) = self
                .procs
                .get(&pid)
                .and_then(|p| p.table.pte(mem, VirtAddr::new_unchecked(va)))
            {
                dirty |= e.has(PteFlags::DIRTY);
            }
        }
        let replacement = match f.kind {
            FrameUse::Anon => {
                let slot = match f.swap {
                    Some(s) if !dirty => s,
                    Some(s) => {
                        self.swap.write(s, f.content);
                        self.stats.swap_outs += 1;
                        s
                    }
                    None => match self.swap.alloc(0, f.content) {
                        Some(s) => {
                            self.stats.swap_outs += 1;
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
                    self.disk.insert((file, index), f.content);
                    self.stats.writebacks += 1;
                }
                self.page_cache.remove(&(file, index));
                Pte::EMPTY
            }
        };
        for &(pid, va) in &f.mappers {
            let v = VirtAddr::new_unchecked(va);
            if let Some(p) = self.procs.get_mut(&pid) {
                if let Ok((_, fl)) = p.table.set_pte(mem, v, replacement) {
                    self.flush_range(cpus, pid, Some(fl));
                }
            }
        }
        // A slot whose only reference was the cache (refs 0) and no mapper: free it.
        if let (FrameUse::Anon, Some(s)) = (f.kind, swap_slot(replacement)) {
            if f.mappers.is_empty() && self.swap.refs(s) == 0 {
                self.swap.put(s);
            }
        }
        self.frames.remove(&pfn);
        mem.frames().free(Pfn(pfn), 0);
        true
    }

    /// Installs a frame for `(pid, va)` with `flags` and makes it evictable.
    fn install(
        &mut self,
        mem: &mut PhysMem,
        pid: Pid,
        va: VirtAddr,
        pfn: u64,
        flags: PteFlags,
    ) -> Result<(), KernelError> {
        let p = self
            .procs
            .get_mut(&pid)
            .ok_or(KernelError::Map(crate::radix::MapError::NotMapped(va)))?;
        let _ = p
            .table
            .set_pte(mem, va, Pte::new(Pfn(pfn), flags | PteFlags::PRESENT))?;
        if let Some(f) = self.frames.get_mut(&pfn) {
            f.mappers.push((pid, va.as_u64()));
        }
        Ok(())
    }

    fn new_frame(&mut self, pfn: u64, kind: FrameUse, content: u64) {
        self.frames.insert(
            pfn,
            Frame {
                kind,
                mappers: Vec::new(),
                content,
                dirty: false,
                swap: None,
                readahead: false,
                order: 0,
                sub: None,
            },
        );
        self.reclaim.insert(pfn);
    }

    /// Splits the huge page in frame `pfn` into 512 pages of 4 KiB, remapping it in every page
    /// table that maps it (as Linux's split_huge_page does before partial unmaps, COW and
    /// swap-out).
    fn split_huge(
        &mut self,
        mem: &mut PhysMem,
        cpus: &mut [Mmu],
        pfn: u64,
    ) -> Result<(), KernelError> {
        let Some(f) = self.frames.remove(&pfn) else {
            return Ok(());
        };
        self.reclaim.remove(pfn);
        self.stats.thp_splits += 1;
        let sub = f
            .sub
            .unwrap_or_else(|| vec![f.content; 512].into_boxed_slice());
        for (i, &content) in sub.iter().enumerate() {
            self.new_frame(pfn + i as u64, f.kind, content);
            if let Some(x) = self.frames.get_mut(&(pfn + i as u64)) {
                x.dirty = true;
            }
        }
        for (pid, base) in f.mappers {
            let Some(p) = self.procs.get_mut(&pid) else {
                continue;
            };
            let old = p.table.unmap(mem, VirtAddr::new_unchecked(base))?;
            let flags = old.pte.flags().difference(PteFlags::HUGE);
            for i in 0..512u64 {
                let va = VirtAddr::new_unchecked(base + i * PAGE);
                let _ = p.table.set_pte(mem, va, Pte::new(Pfn(pfn + i), flags))?;
                if let Some(x) = self.frames.get_mut(&(pfn + i)) {
                    x.mappers.push((pid, va.as_u64()));
                }
            }
            // Flushing all of the process's translations covers the old 2 MiB entry.
            self.flush_range(cpus, pid, None);
        }
        Ok(())
    }

    /// Splits every huge page `pid` maps in `[start, end)`.
    fn split_range(
        &mut self,
        mem: &mut PhysMem,
        cpus: &mut [Mmu],
        pid: Pid,
        start: u64,
        end: u64,
    ) -> Result<(), KernelError> {
        let mut huge = Vec::new();
        if let Some(p) = self.procs.get(&pid) {
            p.table.for_each_leaf(mem, |va, pte, size| {
                let a = va.as_u64();
                if size == PageSize::SIZE_2M && a < end && a + size.bytes() > start {
                    huge.push(pte.large_frame(size).0);
                }
            });
        }
        for h in huge {
            self.split_huge(mem, cpus, h)?;
        }
        Ok(())
    }

    /// `madvise(MADV_HUGEPAGE)`: anonymous faults in `[start, start + len)` may get 2 MiB pages.
    pub fn madvise_hugepage(&mut self, pid: Pid, start: u64, len: u64) -> Result<(), VmError> {
        let end = start + len.div_ceil(PAGE) * PAGE;
        let p = self.procs.get_mut(&pid).ok_or(VmError::NoProcess(pid))?;
        p.space.modify_range(start, end, |v| v.huge = true);
        Ok(())
    }

    fn count(&mut self, pid: Pid, major: bool) {
        if major {
            self.stats.major_faults += 1;
        } else {
            self.stats.minor_faults += 1;
        }
        if let Some(p) = self.procs.get_mut(&pid) {
            if major {
                p.stats.major_faults += 1;
            } else {
                p.stats.minor_faults += 1;
            }
        }
    }

    fn segv(&mut self, pid: Pid) -> Resolution {
        self.stats.segv += 1;
        if let Some(p) = self.procs.get_mut(&pid) {
            p.stats.segv += 1;
        }
        Resolution::Segv
    }

    /// Reads file page `(file, index)` into the page cache if absent; returns the frame and
    /// whether it was already cached.
    fn file_page(
        &mut self,
        mem: &mut PhysMem,
        cpus: &mut [Mmu],
        pid: Pid,
        file: FileId,
        index: u64,
    ) -> Result<Option<(u64, bool)>, KernelError> {
        if let Some(&pfn) = self.page_cache.get(&(file, index)) {
            if let Some(f) = self.frames.get_mut(&pfn) {
                if std::mem::take(&mut f.readahead) {
                    self.stats.readahead_hits += 1;
                }
            }
            self.stats.page_cache_hits += 1;
            return Ok(Some((pfn, true)));
        }
        let Some(pfn) = self.alloc_frame(mem, cpus, pid)? else {
            return Ok(None);
        };
        let content = self.disk.get(&(file, index)).copied().unwrap_or(0);
        self.new_frame(pfn, FrameUse::File { file, index }, content);
        self.page_cache.insert((file, index), pfn);
        self.stats.file_reads += 1;
        // Readahead: the following pages of the file.
        for i in 1..=self.cfg.file_readahead as u64 {
            let key = (file, index + i);
            if self.page_cache.contains_key(&key) || mem.buddy().free_frames() <= self.high {
                continue;
            }
            let Ok(p) = mem.frames().alloc(0) else { break };
            let c = self.disk.get(&key).copied().unwrap_or(0);
            self.new_frame(p.0, FrameUse::File { file, index: key.1 }, c);
            if let Some(f) = self.frames.get_mut(&p.0) {
                f.readahead = true;
            }
            self.page_cache.insert(key, p.0);
            self.stats.readahead_pages += 1;
        }
        Ok(Some((pfn, false)))
    }

    /// Brings swap slot `slot` into memory (swap cache or swap-in with readahead).
    fn swap_page(
        &mut self,
        mem: &mut PhysMem,
        cpus: &mut [Mmu],
        pid: Pid,
        slot: Slot,
    ) -> Result<Option<(u64, bool)>, KernelError> {
        if let Some(pfn) = self.swap.cached(slot) {
            if let Some(f) = self.frames.get_mut(&pfn) {
                if std::mem::take(&mut f.readahead) {
                    self.stats.readahead_hits += 1;
                }
            }
            self.stats.swap_cache_hits += 1;
            return Ok(Some((pfn, true)));
        }
        let Some(pfn) = self.alloc_frame(mem, cpus, pid)? else {
            return Ok(None);
        };
        self.new_frame(pfn, FrameUse::Anon, self.swap.content(slot));
        if let Some(f) = self.frames.get_mut(&pfn) {
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
            if mem.buddy().free_frames() <= self.high {
                break;
            }
            let Ok(p) = mem.frames().alloc(0) else { break };
            self.new_frame(p.0, FrameUse::Anon, self.swap.content(s));
            if let Some(f) = self.frames.get_mut(&p.0) {
                f.swap = Some(s);
                f.readahead = true;
            }
            self.swap.cache_insert(s, p.0);
            self.stats.readahead_pages += 1;
        }
        Ok(Some((pfn, false)))
    }

    #[allow(clippy::too_many_arguments)]
    fn fault(
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
        ) || self.killed.contains(&pid)
        {
            return Ok(self.segv(pid));
        }
        let Some(p) = self.procs.get(&pid) else {
            return Ok(Resolution::Segv);
        };
        let page = va.align_down(PageSize::SIZE_4K);
        // 1. Which VMA? Grow the stack if the fault is just below one.
        let vma = match p.space.find(va) {
            Some(v) => Some(*v),
            None => {
                let grow = p.space.next_above(va).filter(|s| {
                    s.grows_down
                        && s.end - page.as_u64() <= STACK_LIMIT
                        && p.space
                            .prev_below(va)
                            .is_none_or(|b| b.end + STACK_GUARD <= page.as_u64())
                });
                match grow {
                    Some(s) => {
                        let (start, mut v) = (s.start, *s);
                        v.start = page.as_u64();
                        if let Some(p) = self.procs.get_mut(&pid) {
                            p.space.grow_down(start, page.as_u64());
                        }
                        self.stats.stack_growths += 1;
                        Some(v)
                    }
                    None if self.cfg.implicit_anon => {
                        self.stats.outside_vmas += 1;
                        None
                    }
                    None => return Ok(self.segv(pid)),
                }
            }
        };
        let (prot, shared, backing) = match vma {
            Some(v) => (v.prot, v.shared, v.backing),
            None => (Prot::RWX, false, Backing::Anon),
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
        let pte = self
            .procs
            .get(&pid)
            .and_then(|p| p.table.pte(mem, page))
            .unwrap_or(Pte::EMPTY);
        // 3. Copy-on-write: a write to a present, read-only page of a writable private VMA.
        if pte.present() {
            if kind != AccessKind::Write || shared {
                return Ok(self.segv(pid));
            }
            return self.cow(mem, cpus, pid, page, pte, prot);
        }
        // 4. Swapped out.
        if let Some(slot) = swap_slot(pte) {
            let Some((pfn, cached)) = self.swap_page(mem, cpus, pid, slot)? else {
                return Ok(Resolution::OomKilled);
            };
            self.count(pid, !cached);
            // The PTE's reference moves from the slot to the frame.
            let exclusive = self.swap.refs(slot) == 1;
            let writable = prot.write && exclusive;
            self.install(mem, pid, page, pfn, perm_flags(prot, writable))?;
            self.put_slot(slot);
            return Ok(if cached {
                Resolution::SwapCache {
                    va: page,
                    pfn: Pfn(pfn),
                }
            } else {
                Resolution::SwapIn {
                    va: page,
                    pfn: Pfn(pfn),
                }
            });
        }
        // 5. First touch.
        match backing {
            Backing::Anon => {
                if let Some(r) = self.try_thp(mem, pid, page, vma, prot)? {
                    return Ok(r);
                }
                let Some(pfn) = self.alloc_frame(mem, cpus, pid)? else {
                    return Ok(Resolution::OomKilled);
                };
                self.new_frame(pfn, FrameUse::Anon, 0);
                self.install(mem, pid, page, pfn, perm_flags(prot, prot.write))?;
                self.stats.demand_zero += 1;
                self.count(pid, false);
                Ok(Resolution::DemandZero {
                    va: page,
                    pfn: Pfn(pfn),
                    size: PageSize::SIZE_4K,
                })
            }
            Backing::File { .. } => {
                let (file, index) = vma
                    .and_then(|v| v.file_page(page.as_u64()))
                    .unwrap_or((0, 0));
                let Some((pfn, cached)) = self.file_page(mem, cpus, pid, file, index)? else {
                    return Ok(Resolution::OomKilled);
                };
                self.count(pid, !cached);
                // Private mappings map the cached page read-only: a write copies it.
                let writable = shared && prot.write;
                self.install(mem, pid, page, pfn, perm_flags(prot, writable))?;
                let r = if cached {
                    Resolution::PageCache {
                        va: page,
                        pfn: Pfn(pfn),
                    }
                } else {
                    Resolution::FileRead {
                        va: page,
                        pfn: Pfn(pfn),
                    }
                };
                if kind == AccessKind::Write && !shared {
                    let pte = self
                        .procs
                        .get(&pid)
                        .and_then(|p| p.table.pte(mem, page))
                        .unwrap_or(Pte::EMPTY);
                    return self.cow(mem, cpus, pid, page, pte, prot);
                }
                Ok(r)
            }
        }
    }

    /// A transparent huge page for a first touch of anonymous memory, when the VMA asked for
    /// them (`madvise(MADV_HUGEPAGE)`), the aligned 2 MiB region lies inside it with no page
    /// table below it yet, and a free order-9 block exists without dipping under the watermark.
    fn try_thp(
        &mut self,
        mem: &mut PhysMem,
        pid: Pid,
        page: VirtAddr,
        vma: Option<Vma>,
        prot: Prot,
    ) -> Result<Option<Resolution>, KernelError> {
        let Some(v) = vma.filter(|v| v.huge && !v.shared) else {
            return Ok(None);
        };
        let size = PageSize::SIZE_2M;
        let base = page.align_down(size);
        let fits = base.as_u64() >= v.start && base.as_u64() + size.bytes() <= v.end;
        let no_table = self
            .procs
            .get(&pid)
            .is_some_and(|p| p.table.pte(mem, base).is_none());
        let room = mem.buddy().free_frames() >= self.high + 512 && mem.buddy().has_block(9);
        if !(fits && no_table && room) {
            return Ok(None);
        }
        let Ok(pfn) = mem.frames().alloc(9) else {
            return Ok(None);
        };
        let p = self
            .procs
            .get_mut(&pid)
            .ok_or(KernelError::Map(crate::radix::MapError::NotMapped(page)))?;
        p.table
            .map(mem, base, size, pfn, perm_flags(prot, prot.write))?;
        self.frames.insert(
            pfn.0,
            Frame {
                kind: FrameUse::Anon,
                mappers: vec![(pid, base.as_u64())],
                content: 0,
                dirty: false,
                swap: None,
                readahead: false,
                order: 9,
                sub: Some(vec![0; 512].into_boxed_slice()),
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

    fn cow(
        &mut self,
        mem: &mut PhysMem,
        cpus: &mut [Mmu],
        pid: Pid,
        page: VirtAddr,
        pte: Pte,
        prot: Prot,
    ) -> Result<Resolution, KernelError> {
        let old = pte.frame().0;
        let (kind, mappers, content, swap) = match self.frames.get(&old) {
            Some(f) => (f.kind, f.mappers.len(), f.content, f.swap),
            None => return Ok(self.segv(pid)),
        };
        let flush;
        let resolution;
        if kind == FrameUse::Anon && mappers == 1 && swap.is_none_or(|s| self.swap.refs(s) == 0) {
            // The last mapper: take the page over.
            let p = self
                .procs
                .get_mut(&pid)
                .ok_or(KernelError::Map(crate::radix::MapError::NotMapped(page)))?;
            let (_, f) = p.table.set_pte(mem, page, pte.with(PteFlags::WRITABLE))?;
            flush = f;
            self.stats.cow_reuses += 1;
            if let Some(p) = self.procs.get_mut(&pid) {
                p.stats.cow_reuses += 1;
            }
            resolution = Resolution::CowReuse {
                va: page,
                pfn: Pfn(old),
            };
        } else {
            let Some(new) = self.alloc_frame(mem, cpus, pid)? else {
                return Ok(Resolution::OomKilled);
            };
            self.new_frame(new, FrameUse::Anon, content);
            if let Some(f) = self.frames.get_mut(&new) {
                f.dirty = true;
            }
            if let Some(f) = self.frames.get_mut(&old) {
                f.mappers
                    .retain(|&(q, a)| !(q == pid && a == page.as_u64()));
            }
            let p = self
                .procs
                .get_mut(&pid)
                .ok_or(KernelError::Map(crate::radix::MapError::NotMapped(page)))?;
            let (_, f) = p.table.set_pte(
                mem,
                page,
                Pte::new(Pfn(new), perm_flags(prot, true) | PteFlags::PRESENT),
            )?;
            if let Some(fr) = self.frames.get_mut(&new) {
                fr.mappers.push((pid, page.as_u64()));
            }
            flush = f;
            self.stats.cow_copies += 1;
            if let Some(p) = self.procs.get_mut(&pid) {
                p.stats.cow_copies += 1;
            }
            self.free_unmapped(mem);
            resolution = Resolution::CowCopy {
                va: page,
                from: Pfn(old),
                to: Pfn(new),
            };
        }
        self.count(pid, false);
        self.flush_range(cpus, pid, Some(flush));
        Ok(resolution)
    }
}

/// Leaf flags for a page of a VMA with `prot`, writable or not.
fn perm_flags(prot: Prot, writable: bool) -> PteFlags {
    let mut f = PteFlags::USER;
    if writable {
        f |= PteFlags::WRITABLE;
    }
    if !prot.exec {
        f |= PteFlags::NO_EXECUTE;
    }
    f
}

impl Kernel for LinuxKernel {
    fn context(
        &mut self,
        mem: &mut PhysMem,
        pid: Pid,
        cpu: usize,
    ) -> Result<(Pfn, Pcid), KernelError> {
        self.ensure_process(mem, pid)?;
        let p =
            self.procs
                .get_mut(&pid)
                .ok_or(KernelError::Map(crate::radix::MapError::NotMapped(
                    VirtAddr::new_unchecked(0),
                )))?;
        p.cpus |= 1 << (cpu % 64);
        Ok((p.table.root(), p.pcid))
    }

    fn handle_fault(
        &mut self,
        mem: &mut PhysMem,
        cpus: &mut [Mmu],
        _cpu: usize,
        pid: Pid,
        va: VirtAddr,
        kind: AccessKind,
        fault: Fault,
    ) -> Result<Resolution, KernelError> {
        self.fault(mem, cpus, pid, va, kind, fault)
    }

    fn table_pages(&self) -> [u64; 5] {
        super::sum_table_pages(self.procs.values().map(|p| &p.table))
    }

    fn processes(&self) -> usize {
        self.procs.len()
    }

    #[inline]
    fn tracks_accesses(&self) -> bool {
        self.reclaim.tracks_accesses()
    }

    #[inline]
    fn accessed(&mut self, pa: PhysAddr) {
        self.reclaim.accessed(pa.pfn().0);
    }

    fn summary(&self, mem: &PhysMem) -> super::KernelSummary {
        super::KernelSummary {
            name: "linux",
            stats: Some(self.stats()),
            processes: self.memory(mem),
            swap_used_pages: self.swap.used() as u64,
            swap_total_pages: self.swap.capacity() as u64,
            policy: Some(self.cfg.policy.name()),
        }
    }

    fn background(&mut self, mem: &mut PhysMem, cpus: &mut [Mmu]) {
        if mem.buddy().free_frames() < self.low {
            self.stats.background_reclaims += 1;
            self.reclaim_to(mem, cpus, self.high);
        }
    }
}
