//! The flags that put a hypervisor under the kernel (`--virt`, `--guest-levels`,
//! `--host-levels`, `--host-page-size`) and `--no-pwc`, shared by `run`, `report`, `explain`
//! and `workload`, applied to the machine's description after `MachineArgs` loaded it.

use anyhow::Result;
use vmsim_core::config::{MachineConfig, PagingConfig};
use vmsim_core::hypervisor::{VirtConfig, VirtMode};
use vmsim_core::{PageSize, PagingMode};

/// Virtualisation flags.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct VirtArgs {
    /// Memory virtualisation: none (the kernel runs on the machine), nested (2-D walks through
    /// the guest's tables and the host's EPT) or shadow (hypervisor-built gVA→hPA tables).
    /// Default: the machine's `[virt]` table, else none.
    #[arg(long, value_name = "MODE", value_parser = ["none", "nested", "shadow"])]
    pub virt: Option<String>,
    /// Levels of the guest's page tables, 4 or 5 (the paging mode; same as --paging).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(4..=5), conflicts_with = "paging")]
    pub guest_levels: Option<u8>,
    /// Levels of the host's EPT, 4 or 5.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(4..=5))]
    pub host_levels: Option<u8>,
    /// Host page size backing guest memory: 4K, 2M or 1G.
    #[arg(long, value_name = "SIZE", value_parser = ["4K", "2M", "1G"])]
    pub host_page_size: Option<String>,
    /// Turn off every paging-structure cache (page-walk caches, and the nested TLB and host
    /// page-walk caches under --virt nested), so a walk reads every entry.
    #[arg(long)]
    pub no_pwc: bool,
}

impl VirtArgs {
    /// Applies the flags to `cfg` and checks the result.
    pub fn apply(&self, cfg: &mut MachineConfig) -> Result<()> {
        if let Some(n) = self.guest_levels {
            let mode = if n == 5 {
                PagingMode::Level5
            } else {
                PagingMode::Level4
            };
            cfg.paging = PagingConfig::X86(mode);
        }
        if let Some(m) = &self.virt {
            let mode: VirtMode = m.parse().map_err(crate::exit::usage)?;
            cfg.virt.get_or_insert_with(VirtConfig::default).mode = mode;
        }
        let host_flags = self.host_levels.is_some() || self.host_page_size.is_some();
        if host_flags {
            match &mut cfg.virt {
                Some(v) if v.enabled() => {
                    if let Some(n) = self.host_levels {
                        v.host_levels = n;
                    }
                    if let Some(s) = &self.host_page_size {
                        v.host_page_size = s
                            .parse::<PageSize>()
                            .map_err(|e| crate::exit::usage(e.to_string()))?;
                    }
                }
                _ => {
                    return Err(crate::exit::usage(
                        "--host-levels and --host-page-size need --virt nested or --virt shadow",
                    ))
                }
            }
        }
        if self.no_pwc {
            cfg.without_pwc();
        }
        cfg.validate()
            .map_err(|e| crate::exit::usage(format!("invalid machine: {e}")))?;
        Ok(())
    }
}
