//! `vmsim workload FILE`: a scenario written by hand (`vmsim_sim::workload`), run on one machine
//! with the Linux-like kernel. Prints the same report as `vmsim run`.
use crate::cmd::run::KernelArgs;
use crate::machine_args::MachineArgs;
use anyhow::{anyhow, Context, Result};
use std::io::Write;
use std::path::{Path, PathBuf};
use vmsim_core::kernel::LinuxKernel;
use vmsim_core::machine::Machine;
use vmsim_sim::workload::{Workload, WorkloadError};
use vmsim_sim::RunReport;

/// Arguments of `vmsim workload`.
#[derive(clap::Args)]
#[command(after_help = "Example: vmsim workload examples/fork-cow.toml --json\n\
    See examples/ for the format: steps with op = exec, mmap, munmap, mprotect, brk, touch,\n\
    fork, exit or replay.")]
pub struct Args {
    /// The workload description (TOML).
    pub file: PathBuf,
    #[command(flatten)]
    pub machine: MachineArgs,
    #[command(flatten)]
    pub virt: crate::virt_args::VirtArgs,
    #[command(flatten)]
    pub kernel: KernelArgs,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `vmsim workload`.
pub fn run(args: Args) -> Result<()> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let w = Workload::parse(&text).map_err(|e| match e {
        WorkloadError::Parse { line, message } => {
            anyhow!("{}:{line}: {message}", args.file.display())
        }
        other => other.into(),
    })?;
    let mut cfg = args.machine.load()?;
    args.virt.apply(&mut cfg)?;
    args.kernel.apply_ram(&mut cfg)?;
    if !LinuxKernel::supports(&cfg) {
        return Err(crate::exit::usage(
            "workloads run on the linux kernel model, which maps x86-64 4K pages only",
        ));
    }
    let mut m = Machine::linux(&cfg, args.kernel.linux(w.implicit_anon())?)?;
    let base = args.file.parent().unwrap_or(Path::new(""));
    w.run(&mut m, base)
        .with_context(|| args.file.display().to_string())?;
    let name = match w.name() {
        Some(n) => n.to_string(),
        None => args.file.display().to_string(),
    };
    let report = RunReport::new(&m, &cfg, &name);
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &serde_json::to_value(&report)?)?;
        writeln!(out)?;
    } else {
        out.write_all(report.to_string().as_bytes())?;
    }
    Ok(())
}
