//! `vmsim report`: run what `vmsim run` runs, analyse the trace's pages, and write one
//! self-contained HTML page of it all (made by `vmsim-web`).
use crate::cmd::run::{self, open_trace, open_trace_metered, KernelArgs, LayoutArgs, RunWatch};
use crate::machine_args::MachineArgs;
use crate::output::Output;
use anyhow::{Context, Result};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use vmsim_sim::ReplayOptions;
use vmsim_trace::Format;
use vmsim_web::{PageAnalysis, PageOptions};

/// Arguments of `vmsim report`.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  vmsim report -o report.html                 \
    # the built-in trace on the default machine (zen4)\n  \
    vmsim report app.vmt --preset skylake --ram 64M --swap 256M -o app.html\n  \
    vmsim report big.pgt --opt-refs 500000 -o big.html   # OPT over the first 500 000 references"
)]
pub struct Args {
    /// Trace file (text, valgrind lackey, vmt or page formats). Without it, the built-in trace
    /// of a real program runs. It is read twice (the run, then its pages), so not stdin.
    pub trace: Option<PathBuf>,
    /// Trace format (detected from the content when omitted).
    #[arg(long, value_name = "FORMAT", value_parser = crate::cmd::run::format_parser())]
    pub format: Option<Format>,
    #[command(flatten)]
    pub read: crate::trace_args::TraceOptions,
    /// The HTML file to write (`-` for standard output).
    #[arg(short, long, value_name = "FILE.html")]
    pub output: PathBuf,
    #[command(flatten)]
    pub machine: MachineArgs,
    #[command(flatten)]
    pub virt: crate::virt_args::VirtArgs,
    /// Stop after N records.
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
    #[command(flatten)]
    pub kernel: KernelArgs,
    #[command(flatten)]
    pub layout: LayoutArgs,
    /// OPT's miss-ratio curve covers at most this many page references (it needs the future
    /// and costs up to the footprint per reference); the page says when it was cut.
    #[arg(long, value_name = "N", default_value_t = 2_000_000)]
    pub opt_refs: usize,
    /// The working-set window τ, in page references.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub ws_window: usize,
}

/// Runs `vmsim report`.
pub fn run(args: Args) -> Result<()> {
    if args.trace.as_deref().is_some_and(|p| p.as_os_str() == "-") {
        return Err(crate::exit::usage(
            "vmsim report reads the trace twice (the run, then its pages): give a file, not -",
        ));
    }
    if args.ws_window == 0 {
        return Err(crate::exit::usage("--ws-window must be at least 1"));
    }
    let inputs: Vec<&std::path::Path> = args.trace.iter().map(|p| p.as_path()).collect();
    let mut out = Output::create(&args.output, &inputs)?;

    let (mut sim, layout) = run::build(&args.machine, &args.virt, &args.kernel, &args.layout)?;
    let terminal = std::io::stderr().is_terminal();
    let bar = terminal.then(run::progress_bar);
    let (reader, name) =
        open_trace_metered(&args.trace, args.format, &args.read.options(), bar.as_ref())?;
    let mut watch = RunWatch::new(false, sim.machine().geometry(), bar);
    let options = ReplayOptions {
        limit: args.limit,
        explain: 0,
    };
    sim.replay(reader, options, &mut watch)?;
    watch.finish();
    let report = run::report(&sim, &name, layout, &args.layout);

    let (reader, _) = open_trace(&args.trace, args.format, &args.read.options())?;
    let pages = PageAnalysis::of_trace(
        reader,
        &PageOptions {
            limit: args.limit,
            opt_cap: args.opt_refs,
            ws_window: args.ws_window,
            ..PageOptions::new(sim.config().page_size)
        },
    )
    .with_context(|| format!("analysing the pages of {name}"))?;
    let html = vmsim_web::render(&report, sim.config(), &pages)?;
    out.write_all(html.as_bytes())
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    out.commit()
}
