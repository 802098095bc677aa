//! `vmsim completions SHELL`: the shell completion script, generated from the CLI definition
//! (clap_complete), so it always knows every subcommand, flag and value the binary takes.
use anyhow::Result;
use clap::CommandFactory;
use clap_complete::Shell;

/// Arguments of `vmsim completions`.
#[derive(clap::Args)]
#[command(after_help = "Examples:\n  \
    vmsim completions bash > ~/.local/share/bash-completion/completions/vmsim\n  \
    vmsim completions zsh > ~/.zfunc/_vmsim   # with fpath+=~/.zfunc before compinit\n  \
    vmsim completions fish > ~/.config/fish/completions/vmsim.fish")]
pub struct Args {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Prints the completion script for `args.shell` on stdout.
pub fn run(args: Args) -> Result<()> {
    let mut cmd = crate::Cli::command();
    let mut out = std::io::stdout().lock();
    clap_complete::generate(args.shell, &mut cmd, "vmsim", &mut out);
    std::io::Write::flush(&mut out)?;
    Ok(())
}
