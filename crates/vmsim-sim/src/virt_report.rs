//! The hypervisor's part of a run's report: the `virt` object of `vmsim run --json` and its
//! line of text, present only when the machine runs its kernel as a guest (`--virt nested` or
//! `shadow`), so native reports stay as they were.
use crate::report::LevelCounts;
use serde::Serialize;
use std::fmt;
use vmsim_core::hypervisor::Hypervisor;
use vmsim_core::mmu::CpuStats;

/// What the hypervisor and the two dimensions of translation did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VirtReport {
    /// `nested` or `shadow`.
    pub mode: &'static str,
    /// Host page size backing guest memory.
    pub host_page_size: String,
    /// Levels of the host's EPT.
    pub host_levels: u8,
    /// Entries read walking the tables CR3 names: the guest's under nested paging, the shadow
    /// tables under shadow paging (the same figure as `walk_memory_refs`).
    pub guest_walk_refs: u64,
    /// EPT entries read by the host dimension of nested walks (none under shadow paging, whose
    /// hypervisor reads the guest's tables in software).
    pub host_walk_refs: u64,
    /// `guest_walk_refs` per level.
    pub guest_walk_refs_by_level: LevelCounts,
    /// `host_walk_refs` per EPT level.
    pub host_walk_refs_by_level: LevelCounts,
    /// Host walks (nested-TLB misses).
    pub host_walks: u64,
    /// Guest-physical addresses the nested TLB translated without a host walk.
    pub nested_tlb_hits: u64,
    /// Host walks a host page-walk cache shortened.
    pub host_pwc_hits: u64,
    /// EPT violations: guest memory the host backed on first touch.
    pub ept_violations: u64,
    /// VM exits of every kind.
    pub vm_exits: u64,
    /// Shadow entries built or dropped to follow the guest.
    pub shadow_syncs: u64,
    /// Guest page-table writes that exited (shadow paging's write protection).
    pub guest_table_writes: u64,
    /// Host memory given to the guest, in KiB.
    pub host_backed_kib: u64,
}

impl VirtReport {
    /// The report of `hv`, with the guest-dimension walk counts of `total`.
    pub fn new(hv: &Hypervisor, total: &CpuStats) -> VirtReport {
        let s = hv.stats();
        let c = hv.config();
        VirtReport {
            mode: c.mode.name(),
            host_page_size: c.host_page_size.name(),
            host_levels: c.host_levels,
            guest_walk_refs: total.walk_memory_refs(),
            host_walk_refs: s.host_walk_refs,
            guest_walk_refs_by_level: LevelCounts::from_levels(total.walk_refs),
            host_walk_refs_by_level: LevelCounts::from_levels(s.host_walk_refs_by_level),
            host_walks: s.host_walks,
            nested_tlb_hits: s.nested_tlb_hits,
            host_pwc_hits: s.host_pwc_hits,
            ept_violations: s.ept_violations,
            vm_exits: s.vm_exits,
            shadow_syncs: s.shadow_syncs,
            guest_table_writes: s.guest_table_writes,
            host_backed_kib: hv.host().backed_frames() * 4,
        }
    }
}

impl fmt::Display for VirtReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = if self.mode == "nested" {
            format!(
                "{}-level EPT, {} host pages",
                self.host_levels, self.host_page_size
            )
        } else {
            format!("{} host pages", self.host_page_size)
        };
        writeln!(
            f,
            "virt {} ({host}): guest walk refs {}  host walk refs {}  \
             EPT violations {}  VM exits {}  shadow syncs {}  guest table writes trapped {}",
            self.mode,
            self.guest_walk_refs,
            self.host_walk_refs,
            self.ept_violations,
            self.vm_exits,
            self.shadow_syncs,
            self.guest_table_writes
        )
    }
}
