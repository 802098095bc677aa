//! The kernel's own events, as the tracepoints of include/trace/events/vmscan.h
//! (`mm_vmscan_direct_reclaim_begin`, `mm_vmscan_kswapd_wake`, `mm_vmscan_write_folio`),
//! oom.h (`mark_victim`) and tlb.h (`tlb_flush`): reclaim runs, evictions, swap-outs, TLB
//! shootdowns and OOM kills. They are kept only while the machine's observer wants events
//! ([`Kernel::trace_events`](crate::kernel::Kernel::trace_events)); otherwise nothing is
//! stored, and the machine with the `()` observer never turns them on.

use crate::event::{Event, Observer};
use crate::kernel::stats::KernelStats;
use crate::kernel::Pid;

/// The events kept since the machine last took them.
#[derive(Debug, Clone, Default)]
pub(super) struct Tracepoints {
    on: bool,
    events: Vec<Event>,
}

impl Tracepoints {
    /// Starts or stops keeping events.
    pub(super) fn set(&mut self, on: bool) {
        self.on = on;
    }

    /// Keeps `e` if events are wanted.
    #[inline]
    pub(super) fn emit(&mut self, e: Event) {
        if self.on {
            self.events.push(e);
        }
    }

    /// Counts `n` shootdowns of `pid`'s translations and traces them when there were any.
    #[inline]
    pub(super) fn shootdowns(&mut self, stats: &mut KernelStats, pid: Pid, n: u64) {
        stats.shootdowns += n;
        if n > 0 {
            self.emit(Event::Shootdown { pid, cpus: n });
        }
    }

    /// Hands the kept events to `obs`, oldest first.
    pub(super) fn drain<O: Observer>(&mut self, obs: &mut O) {
        for e in self.events.drain(..) {
            obs.event(&e);
        }
    }
}
