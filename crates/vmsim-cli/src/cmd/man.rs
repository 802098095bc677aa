//! `vmsim man`: the manual page in roff, generated from the CLI definition (clap_mangen): the
//! top-level page, or one subcommand's page.
use anyhow::{Context, Result};
use clap::CommandFactory;

/// Arguments of `vmsim man`.
#[derive(clap::Args)]
#[command(after_help = "Examples:\n  \
    vmsim man | man -l -\n  \
    vmsim man run > vmsim-run.1\n  \
    vmsim man > ~/.local/share/man/man1/vmsim.1")]
pub struct Args {
    /// A subcommand whose page to print (the top-level page without it).
    pub command: Option<String>,
}

/// Prints the page on stdout.
pub fn run(args: Args) -> Result<()> {
    let top = crate::Cli::command();
    let cmd = match &args.command {
        None => top,
        Some(name) => {
            let sub = top
                .find_subcommand(name)
                .ok_or_else(|| crate::exit::usage(format!("`{name}` is not a vmsim command")))?
                .clone();
            let full = format!("vmsim-{name}");
            sub.name(full.clone()).bin_name(full)
        }
    };
    let mut out = std::io::stdout().lock();
    clap_mangen::Man::new(cmd)
        .render(&mut out)
        .context("writing the manual page")?;
    Ok(())
}
