//! What the kernel reports of each process, as fs/proc/task_mmu.c's `task_mem` (a process's
//! `RssAnon`, `RssFile`, `RssShmem`, `VmSwap`, `VmPTE`), into the types of `kernel/stats.rs`;
//! the event counters (mm/vmstat.c's) are the kernel's `stats` field.

use super::filemap::SHMEM_FILE;
use super::rmap::FrameUse;
use super::swap_state::swap_slot;
use super::LinuxKernel;
use crate::addr::PageSize;
use crate::kernel::stats::ProcMemory;
use crate::phys::PhysMem;

impl LinuxKernel {
    /// Memory use of every process.
    pub fn memory(&self, mem: &PhysMem) -> Vec<ProcMemory> {
        self.procs
            .iter()
            .map(|(pid, p)| {
                let mut m = ProcMemory {
                    pid,
                    vsz_kib: p.space.iter().map(|v| (v.end - v.start) / 1024).sum(),
                    page_table_kib: (p.table.total_table_pages() + p.deposited) * 4,
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
                        // The zero pages are not the process's memory (smaps' Rss and
                        // status's RssAnon leave them out, fs/proc/task_mmu.c 6.18).
                        match self.rmap.get(pfn.0).map(|f| f.kind) {
                            None => {}
                            Some(FrameUse::File { file, .. }) if file & SHMEM_FILE != 0 => {
                                m.rss_shmem_kib += kib
                            }
                            Some(FrameUse::File { .. }) => m.rss_file_kib += kib,
                            Some(FrameUse::Anon) => m.rss_anon_kib += kib,
                        }
                    }
                });
                m
            })
            .collect()
    }
}
