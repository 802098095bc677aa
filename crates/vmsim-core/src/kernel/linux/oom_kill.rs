//! The OOM killer, as mm/oom_kill.c's `out_of_memory`, `select_bad_process` (the process with
//! the most resident pages, the higher pid on a tie) and `oom_kill_process`.

use super::mm_types::Processes;
use super::LinuxKernel;
use crate::event::Event;
use crate::kernel::Pid;
use crate::mmu::Mmu;
use crate::phys::PhysMem;

/// The processes the OOM killer ended, in order.
#[derive(Debug, Clone, Default)]
pub(super) struct OomKiller {
    victims: Vec<Pid>,
}

impl OomKiller {
    pub(super) fn victims(&self) -> &[Pid] {
        &self.victims
    }

    /// Whether `pid` was killed (its trace may go on; its accesses then all fail).
    pub(super) fn killed(&self, pid: Pid) -> bool {
        self.victims.contains(&pid)
    }
}

/// The process with the most resident pages (a huge page counts once).
fn select_bad_process(procs: &Processes, mem: &PhysMem) -> Option<Pid> {
    let rss = |t: &crate::radix::RadixTable| {
        let mut n = 0u64;
        t.for_each_leaf(mem, |_, e, _| n += e.present() as u64);
        n
    };
    procs
        .iter()
        .max_by_key(|&(pid, p)| (rss(&p.table), pid))
        .map(|(pid, _)| pid)
}

impl LinuxKernel {
    /// Kills the process with the most resident pages and returns it; `None` when there is no
    /// process left to kill.
    pub(super) fn out_of_memory(&mut self, mem: &mut PhysMem, cpus: &mut [Mmu]) -> Option<Pid> {
        let v = select_bad_process(&self.procs, mem)?;
        self.stats.oom_kills += 1;
        self.trace.emit(Event::OomKill { pid: v });
        self.oom.victims.push(v);
        let _ = self.exit(mem, cpus, v);
        Some(v)
    }
}
