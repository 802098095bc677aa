//! `vmsim explain`: translate addresses on a fresh machine, narrating every step (the
//! machine and the JSON document are `vmsim_sim::explain`'s).
use crate::machine_args::MachineArgs;
use anyhow::Result;
use std::io::Write;
use vmsim_core::AccessKind;
use vmsim_sim::Explainer;

/// Arguments of `vmsim explain`.
#[derive(clap::Args)]
#[command(after_help = "Examples:\n  vmsim explain 0x7ffd5c3e1a28\n  \
    vmsim explain 0x401000 0x401008 --fetch   # the second access hits the TLB\n  \
    vmsim explain 0x1234 --preset teaching --write\n  \
    vmsim explain 0x7f0000200000 --page-size 2M --json\n  \
    vmsim explain 0x601040 w:0x601040 x:0x401000   # a read, a write, a fetch")]
pub struct Args {
    /// Virtual addresses (0x-prefixed hex or decimal), accessed in order on one fresh machine;
    /// `r:`, `w:` or `x:` before one makes it a read, a write or a fetch.
    #[arg(required = true, value_parser = parse_access, value_name = "[KIND:]ADDR")]
    pub addrs: Vec<(Option<AccessKind>, u64)>,
    /// Make the accesses without a kind of their own writes.
    #[arg(long, conflicts_with = "fetch")]
    pub write: bool,
    /// Make the accesses without a kind of their own instruction fetches.
    #[arg(long)]
    pub fetch: bool,
    /// Process id of the accesses.
    #[arg(long, default_value_t = 1)]
    pub pid: u32,
    #[command(flatten)]
    pub machine: MachineArgs,
    #[command(flatten)]
    pub virt: crate::virt_args::VirtArgs,
    /// Print the events as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Parses an address with an optional kind: `w:0x1000`, `x:4096`, `0x1000`.
fn parse_access(s: &str) -> Result<(Option<AccessKind>, u64), String> {
    vmsim_sim::explain::parse_access(s)
}

/// Runs `vmsim explain` on the default kernel of the machine: the Linux-like one, or
/// demand-zero for 2M/1G pages and teaching machines, whose page sizes the Linux model does not
/// handle.
pub fn run(args: Args) -> Result<()> {
    let mut cfg = args.machine.load()?;
    args.virt.apply(&mut cfg)?;
    let description = cfg.description.clone();
    let mut ex = Explainer::new(cfg)?;
    let default = if args.write {
        AccessKind::Write
    } else if args.fetch {
        AccessKind::Fetch
    } else {
        AccessKind::Read
    };
    let mut text = String::new();
    let mut all = Vec::new();
    for (i, &(k, a)) in args.addrs.iter().enumerate() {
        let access = ex.access(args.pid, a, k.unwrap_or(default))?;
        if !args.json {
            text.push_str(&format!("access {}: ", i + 1));
            text.push_str(&ex.narrate(&access));
            text.push('\n');
        }
        all.push(access);
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        // Through a `Value`, whose keys are sorted: the order `--json` has always printed.
        let doc = serde_json::to_value(ex.explanation(all))?;
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
    } else {
        write!(
            out,
            "machine {} ({description})\n\n{text}",
            ex.config().name
        )?;
    }
    Ok(())
}
