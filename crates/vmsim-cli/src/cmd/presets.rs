//! `vmsim presets`: list the built-in machine descriptions or print one as TOML.
use anyhow::Result;

/// Arguments of `vmsim presets`.
#[derive(clap::Args)]
#[command(after_help = "Example: vmsim presets --show zen4 > my.toml")]
pub struct Args {
    /// Print this preset as the TOML that --config accepts.
    #[arg(long, value_name = "NAME")]
    pub show: Option<String>,
}

/// Runs `vmsim presets`.
pub fn run(_args: Args) -> Result<()> {
    Ok(())
}
