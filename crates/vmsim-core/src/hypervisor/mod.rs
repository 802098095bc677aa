//! Memory virtualisation: a hypervisor beside the kernel model. The machine's kernel becomes the
//! guest OS, unchanged: its physical memory ([`PhysMem`]) is guest-physical, and the host maps it
//! onto host-physical memory. Two ways of doing that are modelled:
//!
//! - **Nested paging** (Intel EPT, SDM Vol. 3C §29.3): the processor walks the guest's tables
//!   and, for every guest-physical address it meets (each guest table and the final page), the
//!   host's EPT: the two-dimensional walk of [`crate::translate::nested`]. Guest faults go to the
//!   guest kernel; EPT violations to [`HostMemory`], which backs guest memory on demand.
//! - **Shadow paging** ([`shadow`]): the hypervisor keeps gVA→hPA tables that the processor walks
//!   like native ones, built from the guest's tables, which it write-protects so that every
//!   guest page-table write exits to it.
//!
//! One VM: its VPID is 1 on every CPU and never changes, so TLB entries need no VPID tag beyond
//! the PCID yet; several VMs with VPID switches are not modelled.

pub mod ept;
pub mod host_caches;
pub mod host_memory;
pub mod shadow;

pub use host_caches::HostCaches;
pub use host_memory::HostMemory;

use crate::addr::PageSize;
use crate::config::ConfigError;
use crate::mmu::MmuConfig;
use crate::pte::Level;
use crate::pwc::PwcConfig;
use crate::translate::nested::NestedRead;
use serde::{Deserialize, Serialize};

/// The processor left the guest for the hypervisor in the middle of a walk (an EPT violation,
/// a shadow-table miss); the hypervisor has resolved it and the guest re-executes the access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VmExit;

/// How guest memory is virtualised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VirtMode {
    /// No hypervisor: the kernel runs on the machine (the default; every output as before).
    #[default]
    None,
    /// Nested paging: two-dimensional walks through the guest's tables and the EPT.
    Nested,
    /// Shadow paging: the processor walks hypervisor-built gVA→hPA tables.
    Shadow,
}

impl VirtMode {
    /// The name as flags and JSON write it.
    pub const fn name(self) -> &'static str {
        match self {
            VirtMode::None => "none",
            VirtMode::Nested => "nested",
            VirtMode::Shadow => "shadow",
        }
    }
}

impl std::str::FromStr for VirtMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "none" => Ok(VirtMode::None),
            "nested" => Ok(VirtMode::Nested),
            "shadow" => Ok(VirtMode::Shadow),
            _ => Err(format!(
                "`{s}` is not a virtualisation mode (expected none, nested or shadow)"
            )),
        }
    }
}

/// The `[virt]` table of a machine description.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VirtConfig {
    /// none, nested or shadow.
    pub mode: VirtMode,
    /// Levels of the host's EPT (4 or 5).
    pub host_levels: u8,
    /// Host page size backing guest memory: 4K, 2M or 1G.
    pub host_page_size: PageSize,
    /// EPT accessed and dirty flags (EPTP bit 6).
    pub ept_ad: bool,
    /// Entries of each CPU's nested TLB (gPA→hPA, fully associative LRU; 0 = none). Intel
    /// does not document its size; 16 is an assumption.
    pub nested_tlb: u32,
    /// Each CPU's host page-walk caches for EPT walks (absent: the same sizes as the guest's).
    pub host_pwc: Option<PwcConfig>,
}

impl Default for VirtConfig {
    fn default() -> Self {
        VirtConfig {
            mode: VirtMode::None,
            host_levels: 4,
            host_page_size: PageSize::SIZE_4K,
            ept_ad: true,
            nested_tlb: 16,
            host_pwc: None,
        }
    }
}

impl VirtConfig {
    /// Whether a hypervisor runs at all.
    pub fn enabled(&self) -> bool {
        self.mode != VirtMode::None
    }

    /// Checks what serde cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !matches!(self.host_levels, 4 | 5) {
            return Err(ConfigError::Invalid(format!(
                "virt.host_levels must be 4 or 5, not {}",
                self.host_levels
            )));
        }
        let s = self.host_page_size;
        if s != PageSize::SIZE_4K && s != PageSize::SIZE_2M && s != PageSize::SIZE_1G {
            return Err(ConfigError::Invalid(format!(
                "virt.host_page_size must be 4K, 2M or 1G, not {s}"
            )));
        }
        if self.nested_tlb > crate::pwc::MAX_ENTRIES {
            return Err(ConfigError::Invalid(format!(
                "virt.nested_tlb: {} entries is more than {}",
                self.nested_tlb,
                crate::pwc::MAX_ENTRIES
            )));
        }
        Ok(())
    }

    /// The EPT's top level.
    pub fn host_top(&self) -> Level {
        if self.host_levels == 5 {
            Level::Pml5
        } else {
            Level::Pml4
        }
    }
}

/// What the hypervisor counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct VirtStats {
    /// Host (EPT or shadow-table) entries read by the processor's walks.
    pub host_walk_refs: u64,
    /// Host entries read, per EPT level (PT first).
    pub host_walk_refs_by_level: [u64; 5],
    /// Host walks started (nested TLB misses).
    pub host_walks: u64,
    /// Nested-TLB hits (gPA→hPA found without a host walk).
    pub nested_tlb_hits: u64,
    /// Host page-walk-cache hits.
    pub host_pwc_hits: u64,
    /// EPT violations: guest-physical pages the host backed on first touch.
    pub ept_violations: u64,
    /// VM exits of every kind (EPT violations; under shadow paging also hidden faults and
    /// trapped guest page-table writes).
    pub vm_exits: u64,
    /// Shadow-table entries built or dropped to follow the guest's tables.
    pub shadow_syncs: u64,
    /// Guest page-table writes trapped (shadow paging).
    pub guest_table_writes: u64,
}

/// The hypervisor of one VM: host memory, each CPU's nested translation caches, the shadow
/// tables under shadow paging, and the counters.
#[derive(Debug, Clone)]
pub struct Hypervisor {
    pub(crate) cfg: VirtConfig,
    pub(crate) host: HostMemory,
    pub(crate) caches: Vec<HostCaches>,
    pub(crate) shadow: Option<shadow::Shadow>,
    pub(crate) stats: VirtStats,
    /// The guest's top paging level (a walk from CR3 starts there).
    pub(crate) guest_top: Level,
    /// The reads of the current walk, kept only while an observer wants them (capacity
    /// reserved once, so recording allocates nothing per walk).
    pub(crate) reads: Vec<NestedRead>,
    /// The guest level of the next guest entry the walk reads.
    pub(crate) guest_level: Option<Level>,
    /// The address the current walk translates.
    pub(crate) walk_va: crate::addr::VirtAddr,
    /// Host entries read since the current walk began (for its cycles).
    pub(crate) walk_host_refs: u64,
    /// VM exits since the current walk began.
    pub(crate) walk_exits: u64,
}

impl Hypervisor {
    /// The hypervisor for a guest of `guest_frames` 4 KiB frames whose tables start at
    /// `guest_top`, on `cpus` CPUs whose MMUs are `mmu` (the host PWCs default to the guest's
    /// sizes).
    pub fn new(
        cfg: &VirtConfig,
        guest_frames: u64,
        guest_top: Level,
        cpus: u16,
        mmu: &MmuConfig,
    ) -> Hypervisor {
        let host = HostMemory::new(guest_frames, cfg.host_top(), cfg.host_page_size, cfg.ept_ad);
        let pwc = cfg.host_pwc.unwrap_or(mmu.pwc);
        let caches = (0..cpus)
            .map(|_| HostCaches::new(cfg.nested_tlb, &pwc))
            .collect();
        Hypervisor {
            shadow: (cfg.mode == VirtMode::Shadow).then(shadow::Shadow::default),
            cfg: cfg.clone(),
            host,
            caches,
            stats: VirtStats::default(),
            guest_top,
            reads: Vec::with_capacity(256),
            guest_level: None,
            walk_va: crate::addr::VirtAddr::new_unchecked(0),
            walk_host_refs: 0,
            walk_exits: 0,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &VirtConfig {
        &self.cfg
    }

    /// The mode.
    pub fn mode(&self) -> VirtMode {
        self.cfg.mode
    }

    /// Counters so far.
    pub fn stats(&self) -> &VirtStats {
        &self.stats
    }

    /// Host memory.
    pub fn host(&self) -> &HostMemory {
        &self.host
    }
}
