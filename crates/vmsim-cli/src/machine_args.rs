//! The flags that choose a machine (`--preset`, `--config`, overrides), shared by every
//! subcommand that simulates one, and their validation into a [`MachineConfig`].

use anyhow::Result;
use std::path::PathBuf;
use vmsim_core::config::MachineConfig;
use vmsim_core::{PageSize, PagingMode};
use vmsim_sim::machine_choice::MachineChoice;

/// Machine selection flags.
#[derive(clap::Args, Debug, Clone)]
pub struct MachineArgs {
    /// Built-in machine description (see `vmsim presets`).
    #[arg(long, value_name = "NAME", conflicts_with = "config")]
    pub preset: Option<String>,
    /// Machine description in TOML (start from `vmsim presets --show NAME`).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Page size the kernel maps on first touch: 4K, 2M or 1G (overrides the configuration).
    #[arg(long, value_name = "SIZE")]
    pub page_size: Option<PageSize>,
    /// Number of CPUs (overrides the configuration).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=vmsim_core::config::MAX_CPUS as i64))]
    pub cpus: Option<u16>,
    /// x86-64 paging mode: 4-level (48-bit addresses) or 5-level (57-bit, LA57).
    #[arg(long, value_name = "MODE", value_parser = parse_paging)]
    pub paging: Option<PagingMode>,
}

fn parse_paging(s: &str) -> Result<PagingMode, String> {
    match s {
        "4" | "4-level" => Ok(PagingMode::Level4),
        "5" | "5-level" => Ok(PagingMode::Level5),
        _ => Err(format!(
            "`{s}` is not a paging mode (expected 4-level or 5-level)"
        )),
    }
}

impl MachineArgs {
    /// Loads and validates the machine description.
    pub fn load(&self) -> Result<MachineConfig> {
        let choice = MachineChoice {
            preset: self.preset.clone(),
            config: self.config.clone(),
            page_size: self.page_size,
            cpus: self.cpus,
            paging: self.paging,
        };
        choice.load().map_err(|e| {
            if e.is_usage() {
                crate::exit::usage(e.to_string())
            } else {
                e.into()
            }
        })
    }
}
