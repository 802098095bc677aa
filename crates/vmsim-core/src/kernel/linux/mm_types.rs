//! Processes' memory, as include/linux/mm_types.h's `mm_struct` (its VMAs, page table, PCID and
//! `mm_cpumask`), and the table of processes by pid that hands each new one a page table and a
//! PCID, as kernel/fork.c's `mm_alloc` and `mm_init` do.

use super::cpumask::CpuMask;
use crate::kernel::layout::Layout;
use crate::kernel::stats::ProcStats;
use crate::kernel::vma::AddressSpace;
use crate::kernel::{KernelError, Pid};
use crate::phys::PhysMem;
use crate::radix::{Geometry, RadixTable};
use crate::tlb::Pcid;
use std::collections::BTreeMap;

/// One process's memory.
#[derive(Debug, Clone)]
pub(super) struct Process {
    pub(super) space: AddressSpace,
    /// Where exec put things (None for processes made implicitly from a trace).
    pub(super) layout: Option<Layout>,
    pub(super) table: RadixTable,
    pub(super) pcid: Pcid,
    /// CPUs that have run it (whose TLBs may hold its translations).
    pub(super) cpus: CpuMask,
    pub(super) stats: ProcStats,
    /// PTE tables deposited for its 2 MiB mappings (THP and the huge zero page), one each, as
    /// Linux 6.18's `pgtable_trans_huge_deposit`: counted in its page-table memory (`VmPTE`),
    /// withdrawn when the PMD is split. Counted only: no frame is taken for them.
    pub(super) deposited: u64,
}

/// Every process, in pid order (the OOM killer and reports walk them in that order).
#[derive(Debug, Clone)]
pub(super) struct Processes {
    geom: Geometry,
    by_pid: BTreeMap<Pid, Process>,
    next_pcid: u16,
    /// The VMAs every new process starts with (a saved layout), empty by default.
    initial: AddressSpace,
}

impl Processes {
    /// No processes yet; their page tables will have `geom`.
    pub(super) fn new(geom: Geometry) -> Self {
        Processes {
            geom,
            by_pid: BTreeMap::new(),
            next_pcid: 1,
            initial: AddressSpace::default(),
        }
    }

    /// Makes every process created from now on start with the VMAs of `space`.
    pub(super) fn start_with(&mut self, space: AddressSpace) {
        self.initial = space;
    }

    /// Creates `pid` on first sight, with an empty page table and the next PCID (PCIDs wrap
    /// after 4095, skipping 0).
    pub(super) fn ensure(&mut self, mem: &mut PhysMem, pid: Pid) -> Result<(), KernelError> {
        if self.by_pid.contains_key(&pid) {
            return Ok(());
        }
        let table = RadixTable::new(self.geom, mem).map_err(KernelError::Exhausted)?;
        let pcid = Pcid::try_new(self.next_pcid).unwrap_or(Pcid::ZERO);
        self.next_pcid = if self.next_pcid >= 4095 {
            1
        } else {
            self.next_pcid + 1
        };
        self.by_pid.insert(
            pid,
            Process {
                space: self.initial.clone(),
                layout: None,
                table,
                pcid,
                cpus: CpuMask::default(),
                stats: ProcStats::default(),
                deposited: 0,
            },
        );
        Ok(())
    }

    pub(super) fn get(&self, pid: Pid) -> Option<&Process> {
        self.by_pid.get(&pid)
    }

    pub(super) fn get_mut(&mut self, pid: Pid) -> Option<&mut Process> {
        self.by_pid.get_mut(&pid)
    }

    pub(super) fn contains(&self, pid: Pid) -> bool {
        self.by_pid.contains_key(&pid)
    }

    pub(super) fn remove(&mut self, pid: Pid) -> Option<Process> {
        self.by_pid.remove(&pid)
    }

    /// Processes in pid order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (Pid, &Process)> {
        self.by_pid.iter().map(|(&pid, p)| (pid, p))
    }

    pub(super) fn len(&self) -> usize {
        self.by_pid.len()
    }
}
