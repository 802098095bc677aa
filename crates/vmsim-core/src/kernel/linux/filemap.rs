//! The page cache, as mm/filemap.c's `filemap_fault` and `filemap_get_folio`, with the
//! readahead of mm/readahead.c's `page_cache_sync_ra`: file pages in memory by (file, index),
//! the files' contents on disk, and the read path that fills the one from the other; and
//! fault-around, as Linux 6.18 mm/memory.c `do_fault_around` with mm/filemap.c
//! `filemap_map_pages`: a read fault maps the cached pages of its window at once.
//!
//! Simplified: the cache holds 4 KiB pages only. Linux's readahead makes large folios and
//! 6.18's `filemap_map_pages` maps a whole large folio that fits the VMA and page table (and
//! by PMD where a folio is 2 MiB), so a sequential read of a cached file faults several times
//! less on the real kernel than here (docs/fidelity.md).

use super::mmap::perm_flags;
use super::page_alloc::new_frame;
use super::rmap::FrameUse;
use super::LinuxKernel;
use crate::addr::{Pfn, VirtAddr};
use crate::kernel::vma::{FileId, Vma, PAGE};
use crate::kernel::{KernelError, Pid};
use crate::mmu::Mmu;
use crate::phys::PhysMem;
use rustc_hash::FxHashMap;

/// File ids with this bit are the shmem files behind shared anonymous mappings (mm/shmem.c:
/// shared anonymous memory lives in the page cache).
pub(super) const SHMEM_FILE: FileId = 1 << 31;

/// File pages in memory and on disk.
#[derive(Debug, Clone)]
pub(super) struct PageCache {
    /// (file, page index) → frame.
    pages: FxHashMap<(FileId, u64), u64>,
    /// (file, page index) → content version on disk.
    disk: FxHashMap<(FileId, u64), u64>,
    next_file: FileId,
}

impl PageCache {
    /// No files.
    pub(super) fn new() -> Self {
        PageCache {
            pages: FxHashMap::default(),
            disk: FxHashMap::default(),
            next_file: 1,
        }
    }

    /// A new file id for mappings.
    pub(super) fn new_file(&mut self) -> FileId {
        let f = self.next_file;
        self.next_file += 1;
        f
    }

    /// A new shmem file, for a shared anonymous mapping.
    pub(super) fn new_shmem_file(&mut self) -> FileId {
        SHMEM_FILE | self.new_file()
    }

    /// Forgets the cached frame of a file page (it was evicted).
    pub(super) fn remove(&mut self, file: FileId, index: u64) {
        self.pages.remove(&(file, index));
    }

    /// Writes a dirty file page back to disk.
    pub(super) fn write_back(&mut self, file: FileId, index: u64, content: u64) {
        self.disk.insert((file, index), content);
    }

    /// The content on disk of a file page (never written: 0).
    fn on_disk(&self, key: (FileId, u64)) -> u64 {
        self.disk.get(&key).copied().unwrap_or(0)
    }
}

impl LinuxKernel {
    /// Reads file page `(file, index)` into the page cache if absent; returns the frame and
    /// whether it was already cached.
    pub(super) fn file_page(
        &mut self,
        mem: &mut PhysMem,
        cpus: &mut [Mmu],
        pid: Pid,
        file: FileId,
        index: u64,
    ) -> Result<Option<(u64, bool)>, KernelError> {
        if let Some(&pfn) = self.page_cache.pages.get(&(file, index)) {
            if self.rmap.readahead_used(pfn) {
                self.stats.readahead_hits += 1;
            }
            self.stats.page_cache_hits += 1;
            return Ok(Some((pfn, true)));
        }
        let Some(pfn) = self.alloc_frame(mem, cpus, pid)? else {
            return Ok(None);
        };
        let content = self.page_cache.on_disk((file, index));
        let kind = FrameUse::File { file, index };
        new_frame(&mut self.rmap, &mut self.reclaim, pfn, kind, content);
        self.page_cache.pages.insert((file, index), pfn);
        self.stats.file_reads += 1;
        // Readahead: the following pages of the file.
        for i in 1..=self.cfg.file_readahead as u64 {
            let key = (file, index + i);
            if self.page_cache.pages.contains_key(&key)
                || mem.buddy().free_frames() <= self.wmark.high
            {
                continue;
            }
            let Ok(p) = mem.frames().alloc(0) else { break };
            let c = self.page_cache.on_disk(key);
            let kind = FrameUse::File { file, index: key.1 };
            new_frame(&mut self.rmap, &mut self.reclaim, p.0, kind, c);
            if let Some(f) = self.rmap.get_mut(p.0) {
                f.readahead = true;
            }
            self.page_cache.pages.insert(key, p.0);
            self.stats.readahead_pages += 1;
        }
        Ok(Some((pfn, false)))
    }

    /// Fault-around (Linux 6.18 mm/memory.c `do_fault_around`, mm/filemap.c
    /// `filemap_map_pages`): maps every page of the `fault_around_bytes` window around `page`
    /// that the page cache holds and no PTE maps yet, the window aligned to its size and kept
    /// inside the VMA and the page table. Returns the frame now mapping `page` itself, if it was
    /// among them (then the fault is done, a minor one).
    pub(super) fn fault_around(
        &mut self,
        mem: &mut PhysMem,
        pid: Pid,
        page: VirtAddr,
        vma: Vma,
    ) -> Result<Option<Pfn>, KernelError> {
        let nr = (self.cfg.fault_around_bytes / PAGE).min(512);
        if nr <= 1 {
            return Ok(None);
        }
        let va = page.as_u64();
        let pte_off = (va / PAGE) % 512;
        let vma_off = (va - vma.start) / PAGE;
        let table_base = va - pte_off * PAGE;
        let from = (pte_off - pte_off % nr).max(pte_off - pte_off.min(vma_off));
        let to = (from + nr).min(512).min(pte_off + vma.pages() - vma_off);
        let writable = vma.shared && vma.prot.write;
        let mut hit = None;
        for i in from..to {
            let a = VirtAddr::new_unchecked(table_base + i * PAGE);
            let Some(key) = vma.file_page(a.as_u64()) else {
                continue;
            };
            let Some(&pfn) = self.page_cache.pages.get(&key) else {
                continue;
            };
            let empty = self
                .procs
                .get(pid)
                .is_none_or(|p| p.table.pte(mem, a).is_none_or(|e| e.raw() == 0));
            if !empty {
                continue;
            }
            if self.rmap.readahead_used(pfn) {
                self.stats.readahead_hits += 1;
            }
            self.install(mem, pid, a, pfn, perm_flags(vma.prot, writable))?;
            if a == page {
                self.stats.page_cache_hits += 1;
                hit = Some(Pfn(pfn));
            }
        }
        Ok(hit)
    }

    /// Puts pages `first..first + pages` of `file` in the page cache, as a file that was just
    /// read or written is (a warm cache); pages already cached stay. Stops early, quietly, when
    /// free memory reaches the high watermark: a cache never pushes anything out to warm up.
    pub fn cache_file_pages(&mut self, mem: &mut PhysMem, file: FileId, first: u64, pages: u64) {
        for index in first..first.saturating_add(pages) {
            let key = (file, index);
            if self.page_cache.pages.contains_key(&key) {
                continue;
            }
            if mem.buddy().free_frames() <= self.wmark.high {
                break;
            }
            let Ok(p) = mem.frames().alloc(0) else { break };
            let c = self.page_cache.on_disk(key);
            new_frame(
                &mut self.rmap,
                &mut self.reclaim,
                p.0,
                FrameUse::File { file, index },
                c,
            );
            self.page_cache.pages.insert(key, p.0);
        }
    }
}
