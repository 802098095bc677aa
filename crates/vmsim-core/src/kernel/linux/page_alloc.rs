//! Frame allocation, as mm/page_alloc.c's watermarks (`__setup_per_zone_wmarks`) and
//! `__alloc_pages_slowpath`: below the low watermark an allocation reclaims directly up to the
//! high one, and when nothing can be reclaimed it calls the OOM killer.

use super::rmap::{Frame, FrameUse, Rmap};
use super::LinuxKernel;
use crate::event::Event;
use crate::kernel::{KernelError, Pid};
use crate::mmu::Mmu;
use crate::phys::PhysMem;
use crate::replace::Reclaimer;

/// Free frames below which reclaim starts, and the level it reclaims to.
#[derive(Debug, Clone, Copy)]
pub(super) struct Watermarks {
    pub(super) low: u64,
    pub(super) high: u64,
}

impl Watermarks {
    /// Watermarks for `total_frames` of memory, scaled like Linux's `min_free_kbytes` defaults,
    /// with floors for tiny RAM.
    pub(super) fn new(total_frames: u64) -> Self {
        let low = (total_frames / 256).max(8);
        Watermarks {
            low,
            high: low + low / 2 + 1,
        }
    }
}

impl LinuxKernel {
    /// Allocates a frame, reclaiming first when free memory is below the low watermark, and
    /// killing the largest process when nothing can be reclaimed. `None`: the OOM killer chose
    /// `faulting` itself.
    pub(super) fn alloc_frame(
        &mut self,
        mem: &mut PhysMem,
        cpus: &mut [Mmu],
        faulting: Pid,
    ) -> Result<Option<u64>, KernelError> {
        loop {
            let free = mem.buddy().free_frames();
            if free < self.wmark.low {
                self.stats.direct_reclaims += 1;
                self.trace.emit(Event::Reclaim {
                    direct: true,
                    free,
                    target: self.wmark.high,
                });
                self.reclaim_to(mem, cpus, self.wmark.high);
            }
            // Keep a few frames for page tables.
            if mem.buddy().free_frames() > 4 {
                if let Ok(p) = mem.frames().alloc(0) {
                    return Ok(Some(p.0));
                }
            }
            let Some(v) = self.out_of_memory(mem, cpus) else {
                return Err(KernelError::Exhausted(crate::phys::OutOfFrames {
                    frames: 1,
                    total: mem.buddy().total(),
                }));
            };
            if v == faulting {
                return Ok(None);
            }
        }
    }
}

/// Records a newly allocated 4 KiB frame and makes it evictable (`folio_add_lru`).
pub(super) fn new_frame(
    rmap: &mut Rmap,
    reclaim: &mut Reclaimer,
    pfn: u64,
    kind: FrameUse,
    content: u64,
) {
    rmap.insert(pfn, Frame::new(kind, content));
    reclaim.insert(pfn);
}
