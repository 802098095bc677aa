//! `vmsim presets`: list the built-in machine descriptions or print one as TOML.
use anyhow::Result;
use std::io::Write;
use vmsim_core::config::{MachineConfig, PRESETS};

/// Arguments of `vmsim presets`.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  vmsim presets\n  vmsim presets --show zen4 > my.toml && vmsim run --config my.toml"
)]
pub struct Args {
    /// Print this preset as the TOML that --config accepts (with its sources as comments).
    #[arg(long, value_name = "NAME")]
    pub show: Option<String>,
}

/// Runs `vmsim presets`.
pub fn run(args: Args) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match args.show {
        Some(name) => {
            let text = PRESETS
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, t)| *t)
                .ok_or_else(|| {
                    crate::exit::usage(format!("unknown preset `{name}` (see `vmsim presets`)"))
                })?;
            out.write_all(text.as_bytes())?;
        }
        None => {
            for (name, _) in PRESETS {
                let c = MachineConfig::preset(name)?;
                writeln!(out, "{name:<10} {}", c.description)?;
            }
        }
    }
    Ok(())
}
