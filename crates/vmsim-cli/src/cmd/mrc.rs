//! `vmsim mrc`: miss-ratio curves of a trace's page stream: exact LRU for every cache size in
//! one streaming pass (Mattson's stack algorithm), OPT's curve at the chosen sizes in one pass, a SHARDS-sampled LRU curve with
//! its error against the exact one, and any other policy simulated over a grid of sizes; as a
//! table, CSV, JSON and an SVG plot.
use crate::plot::{line_chart, Axes, Series};
use anyhow::{bail, Result};
use std::io::Write;
use std::path::PathBuf;
use vmsim_analysis::mrc_report::MrcPass;
use vmsim_analysis::policy_grid::{self, Cell, PolicyGrid};
use vmsim_core::replace::PolicyKind;
use vmsim_core::PageSize;
use vmsim_trace::Format;

/// Arguments of `vmsim mrc`.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  vmsim mrc                          # the built-in trace, LRU and OPT\n  \
    vmsim mrc prog.vmt --shards 0.01 --svg mrc.svg\n  vmsim mrc prog.vmt --sizes 64,256,1024 --json\n  \
    vmsim mrc zipf.pgt --no-opt --policy fifo,clock,arc --jobs 2 --svg mrc.svg"
)]
pub struct Args {
    /// Trace file (`-` for stdin; the built-in trace when omitted).
    pub trace: Option<PathBuf>,
    /// Input format (detected when omitted).
    #[arg(long, value_name = "FORMAT", value_parser = crate::cmd::run::format_parser())]
    pub format: Option<Format>,
    #[command(flatten)]
    pub read: crate::trace_args::TraceOptions,
    /// Page size of the address formats' pages: 4K, 2M, 1G (or bytes, e.g. 4096), as in `run`.
    #[arg(long, value_name = "SIZE", default_value = "4K")]
    pub page_size: PageSize,
    /// Cache sizes (frames), comma separated; default: powers of two up to the footprint.
    #[arg(long, value_name = "LIST")]
    pub sizes: Option<String>,
    /// Leave out OPT's curve (it costs more than LRU's on long traces).
    #[arg(long)]
    pub no_opt: bool,
    /// Also simulate these policies at every size (see `vmsim policy --list`); `lru` and `opt`
    /// come from the exact one-pass curves.
    #[arg(long, value_name = "LIST")]
    pub policy: Option<String>,
    /// Seed for randomised policies.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Worker threads for the simulated policies (results do not depend on it).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = crate::cmd::policy::parse_jobs)]
    pub jobs: usize,
    /// Also a SHARDS-sampled LRU curve at this sampling rate (0 < RATE <= 1).
    #[arg(long, value_name = "RATE")]
    pub shards: Option<f64>,
    /// Write an SVG plot here.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
    /// Print JSON.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// Print CSV.
    #[arg(long)]
    pub csv: bool,
}

/// Runs `vmsim mrc`.
pub fn run(a: Args) -> Result<()> {
    if let Some(r) = a.shards {
        if !(r > 0.0 && r <= 1.0) {
            return Err(crate::exit::usage("--shards takes a rate in (0, 1]"));
        }
    }
    let size = a.page_size;
    let sizes = a
        .sizes
        .as_deref()
        .map(|s| crate::cmd::policy::parse_frames("--sizes", s))
        .transpose()?;
    let policies: Vec<PolicyKind> = match &a.policy {
        Some(p) => crate::cmd::policy::parse_policies(p)?
            .into_iter()
            .filter(|k| !matches!(k, PolicyKind::Lru | PolicyKind::Opt))
            .collect(),
        None => Vec::new(),
    };

    // One streaming pass. The simulated policies are fed as the batches come when the sizes
    // are given; the default sizes depend on the footprint, known only at the end, and then
    // the trace is read a second time (standard input from a temporary copy). Only OPT's curve
    // keeps the page stream.
    let twice = !policies.is_empty() && sizes.is_none();
    let (mut reader, name, again) =
        crate::spool::open_trace(&a.trace, a.format, &a.read.options(), twice)?;
    let mut grid = match &sizes {
        Some(sizes) if !policies.is_empty() => Some(PolicyGrid::new(
            &Cell::grid(&policies, sizes),
            a.seed,
            a.jobs,
        )?),
        _ => None,
    };
    let mut pass = MrcPass::new(a.shards, !a.no_opt);
    let mut buf = Vec::with_capacity(policy_grid::BATCH);
    while reader.read_pages(size, &mut buf)? > 0 {
        pass.feed(&buf);
        if let Some(g) = &mut grid {
            g.feed(&buf)?;
        }
    }
    let Some(mut report) = pass.finish(&name, sizes, !a.no_opt) else {
        bail!("{name}: the trace holds no accesses");
    };
    let grid = match (grid, again) {
        (Some(g), _) => g.finish(),
        (None, Some(again)) => {
            let mut reader = again.open()?;
            let cells = Cell::grid(&policies, &report.sizes);
            policy_grid::run_batches(&cells, a.seed, a.jobs, |buf| reader.read_pages(size, buf))?
        }
        (None, None) => policy_grid::GridResults {
            accesses: report.references,
            results: Vec::new(),
        },
    };
    for (k, row) in policies
        .iter()
        .zip(grid.results.chunks(report.sizes.len().max(1)))
    {
        report.push(k.name(), row.iter().map(|r| r.miss_ratio).collect());
    }
    let (sizes, curves, footprint) = (&report.sizes, &report.curves, report.footprint);
    let shards_err = report.shards_max_error;

    if let Some(path) = &a.svg {
        let series: Vec<Series> = curves
            .iter()
            .map(|(name, ys)| Series {
                name: name.clone(),
                points: sizes
                    .iter()
                    .map(|&n| n as f64)
                    .zip(ys.iter().copied())
                    .collect(),
            })
            .collect();
        let title = format!("miss-ratio curves: {name}");
        let axes = Axes {
            title: &title,
            x: "cache size (frames)",
            y: "miss ratio",
            log_x: true,
        };
        line_chart(path, &axes, &series)?;
    }
    let mut out = std::io::stdout().lock();
    if a.json {
        // Through a `Value`, whose keys are sorted: the order `--json` has always printed.
        serde_json::to_writer_pretty(&mut out, &serde_json::to_value(&report)?)?;
        writeln!(out)?;
    } else if a.csv {
        write!(out, "frames")?;
        for (c, _) in curves {
            write!(out, ",{c}")?;
        }
        writeln!(out)?;
        for (i, n) in sizes.iter().enumerate() {
            write!(out, "{n}")?;
            for (_, ys) in curves {
                write!(out, ",{:.6}", ys[i])?;
            }
            writeln!(out)?;
        }
    } else {
        writeln!(
            out,
            "{name}: {} page references, footprint {footprint} pages; miss ratio (%)",
            report.references
        )?;
        write!(out, "{:>10}", "frames")?;
        for (c, _) in curves {
            write!(out, " {c:>9}")?;
        }
        writeln!(out)?;
        for (i, n) in sizes.iter().enumerate() {
            write!(out, "{n:>10}")?;
            for (_, ys) in curves {
                write!(out, " {:>9.3}", ys[i] * 100.0)?;
            }
            writeln!(out)?;
        }
        if let Some(e) = shards_err {
            writeln!(
                out,
                "SHARDS at rate {}: largest error against exact LRU {:.4}",
                a.shards.unwrap_or(0.0),
                e
            )?;
        }
    }
    Ok(())
}
