//! The page cache, as mm/filemap.c's `filemap_fault` and `filemap_get_folio`, with the
//! readahead of mm/readahead.c's `page_cache_sync_ra`: file pages in memory by (file, index),
//! the files' contents on disk, and the read path that fills the one from the other.

use super::page_alloc::new_frame;
use super::rmap::FrameUse;
use super::LinuxKernel;
use crate::kernel::vma::FileId;
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
}
