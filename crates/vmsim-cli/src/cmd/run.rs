//! `vmsim run`: replay a trace through a machine and print its statistics.
use crate::machine_args::MachineArgs;
use anyhow::{Context, Result};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use vmsim_core::config::MachineConfig;
use vmsim_core::event::Recorder;
use vmsim_core::kernel::linux::ReclaimPolicy;
use vmsim_core::kernel::{Kernel, LinuxConfig, LinuxKernel};
use vmsim_core::machine::Machine;
use vmsim_trace::{AddressCheck, Format, Record, TraceReader};

/// The built-in default trace (see `crates/vmsim-cli/data/README.md`).
pub const DEFAULT_TRACE: &[u8] = include_bytes!("../../data/default.vmt");
/// How the built-in trace is named in reports.
pub const DEFAULT_TRACE_NAME: &str = "built-in:default.vmt";

/// Arguments of `vmsim run`.
#[derive(clap::Args)]
#[command(after_help = "Examples:\n  vmsim run                      \
    # the built-in trace on the default machine (zen4)\n  \
    vmsim run app.vmt --preset skylake --json\n  \
    vmsim run lackey.out --page-size 2M\n  \
    vmsim run app.vmt --explain 5   # narrate the first 5 accesses\n  \
    vmsim run ls.vmt --layout ls.vmt.maps   # in the layout `vmsim record` saved\n  \
    vmsim run app.vmt --layout app.json --strict-layout   # from `vmsim inspect --snapshot`")]
pub struct Args {
    /// Trace file (text, valgrind lackey, vmt or page formats; `-` for stdin). Without it, the
    /// built-in trace of a real program runs.
    pub trace: Option<PathBuf>,
    /// Trace format (detected from the content when omitted).
    #[arg(long)]
    pub format: Option<Format>,
    #[command(flatten)]
    pub machine: MachineArgs,
    /// Print the statistics as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Narrate the first N accesses step by step before the statistics.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub explain: u64,
    /// Stop after N records.
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
    #[command(flatten)]
    pub kernel: KernelArgs,
    #[command(flatten)]
    pub layout: LayoutArgs,
}

/// Which kernel runs, and the memory pressure it runs under.
#[derive(clap::Args, Debug, Clone)]
pub struct KernelArgs {
    /// Kernel model: `linux` (VMAs, page cache, swap, reclaim) or `demand-zero` (every page
    /// mapped on first touch, nothing reclaimed). Default: linux, or demand-zero when the page
    /// size is 2M or 1G (the Linux model maps 4 KiB pages only).
    #[arg(long, value_name = "KERNEL", value_parser = ["linux", "demand-zero"])]
    pub kernel: Option<String>,
    /// Physical memory (overrides the machine's), e.g. 64M, 2G.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub ram: Option<u64>,
    /// Swap space, e.g. 256M (default none).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub swap: Option<u64>,
    /// Page reclaim policy: fifo, lru, clock or two-list (Linux's active/inactive lists).
    #[arg(long, value_name = "NAME", default_value = "two-list")]
    pub policy: ReclaimPolicy,
    /// Swap readahead window in pages (0 turns it off).
    #[arg(long, value_name = "PAGES", default_value_t = 8)]
    pub swap_readahead: u32,
}

/// A real process's layout to replay in.
#[derive(clap::Args, Debug, Clone)]
pub struct LayoutArgs {
    /// Start every process of the trace with the areas of a real one: a snapshot from `vmsim
    /// inspect --snapshot` (JSON) or a `/proc/PID/maps` copy such as the `.maps` file `vmsim
    /// record` writes. Areas keep their permissions, sharing and files (one page-cache file
    /// per path); the stack grows down. Linux kernel model only.
    #[arg(long, value_name = "FILE")]
    pub layout: Option<PathBuf>,
    /// With --layout: an access outside every area is a SIGSEGV, as on the real system
    /// (without it such accesses get anonymous memory and are counted as outside the layout).
    #[arg(long, requires = "layout")]
    pub strict_layout: bool,
}

impl KernelArgs {
    /// Applies `--ram` to `cfg` (a usage error if the result is not a machine).
    pub fn apply_ram(&self, cfg: &mut MachineConfig) -> Result<()> {
        if let Some(ram) = self.ram {
            cfg.memory = ram;
            cfg.validate()
                .map_err(|e| crate::exit::usage(format!("--ram: {e}")))?;
        }
        Ok(())
    }

    /// The Linux kernel's configuration from `--swap`, `--policy` and `--swap-readahead`.
    pub fn linux(&self, implicit_anon: bool) -> Result<LinuxConfig> {
        Ok(LinuxConfig {
            policy: self.policy,
            swap_pages: u32::try_from(self.swap.unwrap_or(0) / 4096)
                .map_err(|_| crate::exit::usage("--swap is larger than 16 TiB"))?,
            swap_readahead: self.swap_readahead,
            implicit_anon,
            ..LinuxConfig::default()
        })
    }
}

fn parse_size(s: &str) -> Result<u64, String> {
    vmsim_core::units::parse_bytes(s)
}

/// Opens the trace named on the command line, or the built-in one.
pub fn open_trace(path: &Option<PathBuf>, format: Option<Format>) -> Result<(TraceReader, String)> {
    Ok(match path {
        None => (
            TraceReader::from_reader(
                DEFAULT_TRACE_NAME,
                std::io::Cursor::new(DEFAULT_TRACE),
                format,
            )?,
            DEFAULT_TRACE_NAME.to_string(),
        ),
        Some(p) if p.as_os_str() == "-" => (
            TraceReader::from_reader("<stdin>", std::io::stdin(), format)?,
            "<stdin>".to_string(),
        ),
        Some(p) => (TraceReader::open(p, format)?, p.display().to_string()),
    })
}

/// Builds the machine with the kernel the flags ask for, and replays.
pub fn run(args: Args) -> Result<()> {
    let mut cfg = args.machine.load()?;
    let k = &args.kernel;
    k.apply_ram(&mut cfg)?;
    let huge = !LinuxKernel::supports(&cfg);
    let kernel = k
        .kernel
        .clone()
        .unwrap_or_else(|| if huge { "demand-zero" } else { "linux" }.to_string());
    if kernel == "linux" {
        if huge {
            return Err(crate::exit::usage(
                "the linux kernel model maps x86-64 4K pages only: use --kernel demand-zero with --page-size 2M or 1G and teaching machines",
            ));
        }
        let linux = k.linux(!args.layout.strict_layout)?;
        let mut machine = Machine::linux(&cfg, linux)?;
        let layout = match &args.layout.layout {
            Some(path) => Some(start_in_layout(&mut machine, path)?),
            None => None,
        };
        replay(machine, &cfg, args, layout)
    } else {
        if args.layout.layout.is_some() {
            return Err(crate::exit::usage(
                "--layout needs the linux kernel model (the demand-zero kernel has no VMAs)",
            ));
        }
        replay(Machine::from_config(&cfg)?, &cfg, args, None)
    }
}

/// Gives every process `machine` creates the areas of the layout in `path`; returns what the
/// report says of it.
#[cfg(target_os = "linux")]
fn start_in_layout(
    machine: &mut Machine<LinuxKernel>,
    path: &std::path::Path,
) -> Result<serde_json::Value> {
    use vmsim_linux::snapshot::SavedLayout;
    let saved = SavedLayout::load(path)?;
    let (kernel, _, _) = machine.parts();
    let model = saved.space(|| kernel.new_file());
    let areas = model.space.len();
    kernel.start_processes_with(model.space);
    let skipped: Vec<serde_json::Value> = model
        .skipped
        .iter()
        .map(|&(i, why)| {
            let a = &saved.vmas[i];
            serde_json::json!({"start": a.start, "end": a.end, "path": a.path, "why": why})
        })
        .collect();
    Ok(serde_json::json!({
        "file": path.display().to_string(),
        "pid": saved.pid,
        "exe": saved.exe,
        "areas": areas,
        "files": model.files,
        "skipped": skipped,
    }))
}

/// Saved layouts are read by the Linux-only crate.
#[cfg(not(target_os = "linux"))]
fn start_in_layout(
    _machine: &mut Machine<LinuxKernel>,
    _path: &std::path::Path,
) -> Result<serde_json::Value> {
    anyhow::bail!("--layout needs Linux (saved layouts are read by vmsim-linux)")
}

/// Replays the trace through `machine` and prints the report.
fn replay<K: Kernel>(
    mut machine: Machine<K>,
    cfg: &MachineConfig,
    args: Args,
    layout: Option<serde_json::Value>,
) -> Result<()> {
    let (mut reader, name) = open_trace(&args.trace, args.format)?;
    let geom = *machine.geometry();
    reader = reader.with_address_check(if geom.is_x86() {
        AddressCheck::Canonical(geom.va_bits())
    } else {
        AddressCheck::Width(geom.va_bits())
    });
    let progress = std::io::stderr().is_terminal() && !args.json;
    let bar = progress.then(|| {
        let b = indicatif::ProgressBar::new_spinner();
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {pos} records ({per_sec}) {elapsed}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        b
    });
    let mut buf: Vec<Record> = Vec::with_capacity(BATCH);
    let mut seen = 0u64;
    let limit = args.limit.unwrap_or(u64::MAX);
    let mut narration = String::new();
    let mut explained = Vec::new();
    // The explained prefix and the limit are cut out of each batch, so the records in
    // between replay in a loop that tests nothing per record.
    while seen < limit {
        let n = reader.read_batch(&mut buf)?;
        if n == 0 {
            break;
        }
        let batch = &buf[..n.min(at_most(limit - seen))];
        let narrated = batch.len().min(at_most(args.explain.saturating_sub(seen)));
        for r in &batch[..narrated] {
            seen += 1;
            let mut rec = Recorder::default();
            machine.access(r.cpu, r.pid, r.addr, r.kind, r.size, &mut rec)?;
            if args.json {
                explained.push(serde_json::to_value(&rec.events)?);
            } else {
                narration.push_str(&format!("access {seen}: "));
                crate::narrate::render(&geom, &rec.events, &mut narration);
                narration.push('\n');
            }
        }
        for r in &batch[narrated..] {
            machine.replay_access(r.cpu, r.pid, r.addr, r.kind, r.size, &mut ())?;
        }
        seen += (batch.len() - narrated) as u64;
        if let Some(b) = &bar {
            b.set_position(seen);
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let mut report = crate::report::json(&machine, cfg, &name);
    if let Some(mut l) = layout {
        l["strict"] = args.layout.strict_layout.into();
        l["outside_faults"] = report["faults"]["outside_vmas"].clone();
        report["layout"] = l;
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        if args.explain > 0 {
            report["explain"] = serde_json::Value::Array(explained);
        }
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        out.write_all(narration.as_bytes())?;
        out.write_all(crate::report::text(&report).as_bytes())
            .context("writing the report")?;
    }
    Ok(())
}

/// Records decoded per batch: 24 KiB of records, which stay in a 32 KiB L1 data cache between
/// decoding and replay (8192 records, 192 KiB, went out to L2: twice the L1 misses on the
/// built-in trace, measured with cachegrind).
const BATCH: usize = 1024;

/// A record count as a slice length, saturating where `usize` is narrower than `u64`.
fn at_most(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}
