//! `vmsim run`: replay a trace through a machine and print its statistics.
use crate::machine_args::MachineArgs;
use anyhow::{Context, Result};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use vmsim_core::config::MachineConfig;
use vmsim_core::event::Event;
use vmsim_core::kernel::{LinuxConfig, LinuxKernel};
use vmsim_core::machine::Machine;
use vmsim_core::radix::Geometry;
use vmsim_core::replace::ReclaimPolicy;
use vmsim_core::VirtAddr;
use vmsim_sim::report::{LayoutReport, SkippedArea};
use vmsim_sim::{KernelChoice, KernelKind, ReplayOptions, RunReport, SimError, Simulation, Watch};
use vmsim_trace::{Format, ReadOptions, TraceReader};

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
    #[arg(long, value_name = "FORMAT", value_parser = crate::cmd::run::format_parser())]
    pub format: Option<Format>,
    #[command(flatten)]
    pub read: crate::trace_args::TraceOptions,
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
    #[arg(long, value_name = "KERNEL", value_parser = parse_kernel)]
    pub kernel: Option<KernelKind>,
    /// Physical memory (overrides the machine's), e.g. 64M, 2G.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub ram: Option<u64>,
    /// Swap space, e.g. 256M (default none).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub swap: Option<u64>,
    /// Page reclaim policy: any policy of `vmsim policy --list` but opt (two-list, also
    /// spelled linux, is Linux's active/inactive lists; lru is told of every access).
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

    /// The kernel `--kernel` names (by default Linux where it can run), configured by the
    /// other flags; `implicit_anon` as in [`LinuxConfig`].
    pub fn choice(&self, cfg: &MachineConfig, implicit_anon: bool) -> Result<KernelChoice> {
        KernelChoice::resolve(self.kernel, cfg, self.linux(implicit_anon)?).map_err(|e| match e {
            SimError::LinuxNeeds4K => crate::exit::usage(
                "the linux kernel model maps x86-64 4K pages only: use --kernel demand-zero with --page-size 2M or 1G and teaching machines",
            ),
            other => other.into(),
        })
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

/// The `--format`-like flags: the trace formats by name, listed in `--help` and in completions.
pub fn format_parser() -> impl clap::builder::TypedValueParser<Value = Format> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(Format::ALL.map(|f| f.name()))
        .try_map(|s| s.parse::<Format>())
}

/// The format flags of commands that write a trace: the formats vmsim writes.
pub fn writable_format_parser() -> impl clap::builder::TypedValueParser<Value = Format> {
    use clap::builder::TypedValueParser;
    let names = Format::ALL
        .into_iter()
        .filter(|f| f.writable())
        .map(|f| f.name());
    clap::builder::PossibleValuesParser::new(names).try_map(|s| s.parse::<Format>())
}

/// The output-format flags: the formats vmsim writes, each also with a codec suffix
/// (`vmt.zst`, `champsim.xz`; listed without them).
pub fn output_format_parser(
) -> impl clap::builder::TypedValueParser<Value = (Format, Option<vmsim_trace::Codec>)> {
    use clap::builder::{PossibleValue, TypedValueParser};
    let writable = || Format::ALL.into_iter().filter(|f| f.writable());
    let plain = writable().map(|f| PossibleValue::new(f.name()));
    let compressed = writable().flat_map(|f| {
        vmsim_trace::Codec::ALL
            .map(|c| PossibleValue::new(format!("{}.{}", f.name(), c.name())).hide(true))
    });
    clap::builder::PossibleValuesParser::new(plain.chain(compressed)).try_map(|s: String| {
        let (name, codec) = vmsim_trace::Codec::strip(&s);
        name.parse::<Format>().map(|f| (f, codec))
    })
}

fn parse_kernel(s: &str) -> Result<KernelKind, String> {
    s.parse()
        .map_err(|e: vmsim_sim::kernel_choice::UnknownKernel| e.to_string())
}

fn parse_size(s: &str) -> Result<u64, String> {
    vmsim_core::units::parse_bytes(s)
}

/// Opens the trace named on the command line, or the built-in one.
pub fn open_trace(
    path: &Option<PathBuf>,
    format: Option<Format>,
    opts: &ReadOptions,
) -> Result<(TraceReader, String)> {
    open_trace_metered(path, format, opts, None)
}

/// Opens the trace as [`open_trace`] does; with a progress bar, counts the bytes read on it
/// and sets its length where the size is known (a file, the built-in trace).
pub fn open_trace_metered(
    path: &Option<PathBuf>,
    format: Option<Format>,
    opts: &ReadOptions,
    bar: Option<&indicatif::ProgressBar>,
) -> Result<(TraceReader, String)> {
    let meter = |r: Box<dyn std::io::Read>| -> Box<dyn std::io::Read> {
        match bar {
            Some(b) => Box::new(b.wrap_read(r)),
            None => Box::new(r),
        }
    };
    Ok(match path {
        None => {
            if let Some(b) = bar {
                measure(b, DEFAULT_TRACE.len() as u64);
            }
            let bytes = meter(Box::new(std::io::Cursor::new(DEFAULT_TRACE)));
            (
                TraceReader::from_reader_with(DEFAULT_TRACE_NAME, bytes, format, opts)?,
                DEFAULT_TRACE_NAME.to_string(),
            )
        }
        Some(p) if p.as_os_str() == "-" => (
            TraceReader::from_reader_with(
                "<stdin>",
                meter(Box::new(std::io::stdin())),
                format,
                opts,
            )?,
            "<stdin>".to_string(),
        ),
        Some(p) => {
            if let (Some(b), Ok(m)) = (bar, std::fs::metadata(p)) {
                if m.is_file() {
                    measure(b, m.len());
                }
            }
            let reader = TraceReader::open_through(p, format, opts, |f| meter(Box::new(f)))?;
            (reader, p.display().to_string())
        }
    })
}

/// The machine the flags describe with the kernel they choose, its processes started in the
/// layout `--layout` names (what the report then says of it). Shared by `vmsim run` and
/// `vmsim report`.
pub fn build(
    machine: &MachineArgs,
    kernel: &KernelArgs,
    layout: &LayoutArgs,
) -> Result<(Simulation, Option<LayoutReport>)> {
    let mut cfg = machine.load()?;
    kernel.apply_ram(&mut cfg)?;
    let choice = kernel.choice(&cfg, !layout.strict_layout)?;
    if layout.layout.is_some() && choice.kind() != KernelKind::Linux {
        return Err(crate::exit::usage(
            "--layout needs the linux kernel model (the demand-zero kernel has no VMAs)",
        ));
    }
    let mut sim = Simulation::new(cfg, choice)?;
    let started = match (&layout.layout, sim.machine_mut().linux_mut()) {
        (Some(path), Some(machine)) => Some(start_in_layout(machine, path)?),
        _ => None,
    };
    Ok((sim, started))
}

/// The report of `sim` after replaying the trace named `name`, with what it says of the
/// layout the processes started in.
pub fn report(
    sim: &Simulation,
    name: &str,
    layout: Option<LayoutReport>,
    args: &LayoutArgs,
) -> RunReport {
    let mut report = sim.report(name);
    report.layout = layout.map(|mut l| {
        l.strict = args.strict_layout;
        l.outside_faults = report.faults.outside_vmas;
        l
    });
    report
}

/// Builds the simulation the flags ask for, replays the trace and prints the report.
pub fn run(args: Args) -> Result<()> {
    let (mut sim, layout) = build(&args.machine, &args.kernel, &args.layout)?;
    let bar = std::io::stderr().is_terminal().then(progress_bar);
    let (reader, name) =
        open_trace_metered(&args.trace, args.format, &args.read.options(), bar.as_ref())?;
    let mut watch = RunWatch::new(args.json, sim.machine().geometry(), bar);
    let options = ReplayOptions {
        limit: args.limit,
        explain: args.explain,
    };
    sim.replay(reader, options, &mut watch)?;
    watch.finish();
    let mut report = report(&sim, &name, layout, &args.layout);
    let mut out = std::io::stdout().lock();
    if args.json {
        if args.explain > 0 {
            report.explain = Some(watch.explained);
        }
        serde_json::to_writer_pretty(&mut out, &serde_json::to_value(&report)?)?;
        writeln!(out)?;
    } else {
        out.write_all(watch.narration.as_bytes())?;
        out.write_all(report.to_string().as_bytes())
            .context("writing the report")?;
    }
    Ok(())
}

/// What `vmsim run` keeps of a replay while it runs: the narration of its first accesses (as
/// text, or their events for JSON) and a progress line on a terminal.
pub struct RunWatch {
    json: bool,
    geom: Geometry,
    narration: String,
    explained: Vec<Vec<Event>>,
    bar: Option<indicatif::ProgressBar>,
}

impl RunWatch {
    /// Keeps narrations as events for JSON (`json`) or as text for `geom`'s machine, and
    /// shows progress on `bar` if there is one.
    pub fn new(json: bool, geom: &Geometry, bar: Option<indicatif::ProgressBar>) -> Self {
        RunWatch {
            json,
            geom: *geom,
            narration: String::new(),
            explained: Vec::new(),
            bar,
        }
    }

    /// Clears the progress line.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

impl Watch for RunWatch {
    fn explained(&mut self, index: u64, events: Vec<Event>) {
        if self.json {
            self.explained.push(events);
        } else {
            self.narration.push_str(&format!("access {index}: "));
            vmsim_sim::narrate::render(&self.geom, &events, &mut self.narration);
            self.narration.push('\n');
        }
    }

    fn progress(&mut self, records: u64) {
        if let Some(b) = &self.bar {
            let secs = b.elapsed().as_secs_f64().max(1e-9);
            b.set_message(format!(
                "{records} records, {:.1} M records/s",
                records as f64 / secs / 1e6
            ));
        }
    }
}

/// The progress line of a replay on a terminal: records replayed and their rate, and (once
/// [`measure`] gives it the trace's size) the share of its bytes read and the time left.
pub fn progress_bar() -> indicatif::ProgressBar {
    let b = indicatif::ProgressBar::no_length();
    b.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {elapsed} elapsed  {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    b
}

/// Gives the progress bar the trace's size in bytes.
fn measure(b: &indicatif::ProgressBar, bytes: u64) {
    b.set_length(bytes);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} {percent:>3}% [{bar:30}] {elapsed} elapsed, {eta} left  {msg}",
    ) {
        b.set_style(style.progress_chars("=> "));
    }
}

/// Gives every process `machine` creates the areas of the layout in `path`; returns what the
/// report says of it (its strictness and outside faults are filled in after the run).
#[cfg(target_os = "linux")]
fn start_in_layout(
    machine: &mut Machine<LinuxKernel>,
    path: &std::path::Path,
) -> Result<LayoutReport> {
    use vmsim_linux::snapshot::{SavedLayout, Skipped};
    let saved = SavedLayout::load(path)?;
    let model = saved.space(|| machine.new_file());
    let areas = model.space.len();
    machine.start_processes_with(model.space);
    let skipped = model
        .skipped
        .iter()
        .map(|&(i, why)| {
            let a = &saved.vmas[i];
            SkippedArea {
                start: VirtAddr::new_unchecked(a.start),
                end: VirtAddr::new_unchecked(a.end),
                path: a.path.clone(),
                why: match why {
                    Skipped::KernelAddress => "kernel_address",
                },
            }
        })
        .collect();
    Ok(LayoutReport {
        file: path.display().to_string(),
        pid: saved.pid,
        exe: saved.exe,
        areas,
        files: model.files,
        skipped,
        strict: false,
        outside_faults: 0,
    })
}

/// Saved layouts are read by the Linux-only crate.
#[cfg(not(target_os = "linux"))]
fn start_in_layout(
    _machine: &mut Machine<LinuxKernel>,
    _path: &std::path::Path,
) -> Result<LayoutReport> {
    anyhow::bail!("--layout needs Linux (saved layouts are read by vmsim-linux)")
}
