//! `vmsim ws`: Denning working sets of a trace's page stream: the mean working-set size for
//! every window τ, the working-set size over time (phase changes show as steps), the
//! reuse-distance histogram, and how often the working set exceeds a memory size (thrashing).
use crate::plot::{line_chart, Axes, Series};
use anyhow::Result;
use std::io::Write;
use std::path::PathBuf;
use vmsim_analysis::ws_report::{OverTime, ReuseBucket, WsOptions, WsPass};
use vmsim_trace::Format;

/// Arguments of `vmsim ws`.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  vmsim ws                                   # the built-in trace\n  \
    vmsim gen phases:ws=500,len=100k -n 1M -o ph.pgt && vmsim ws ph.pgt --window 10000 --svg-time ws.svg\n  \
    vmsim ws prog.vmt --frames 64,128,256 --json"
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
    pub page_size: vmsim_core::PageSize,
    /// The window τ, in references, for the size over time and the thrashing report.
    #[arg(long, default_value_t = 10_000)]
    pub window: usize,
    /// Windows for the mean-size curve, comma separated (default: powers of two up to the
    /// trace's length).
    #[arg(long, value_name = "LIST")]
    pub taus: Option<String>,
    /// Memory sizes (frames) for the thrashing report, comma separated (default: quarters of
    /// the largest working set).
    #[arg(long, value_name = "LIST")]
    pub frames: Option<String>,
    /// Points in the size-over-time series (evenly spaced references).
    #[arg(long, default_value_t = 200)]
    pub points: usize,
    /// Write the working-set size over time as an SVG chart.
    #[arg(long, value_name = "FILE")]
    pub svg_time: Option<PathBuf>,
    /// Write the mean working-set size against τ as an SVG chart.
    #[arg(long, value_name = "FILE")]
    pub svg_mean: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `vmsim ws`.
pub fn run(a: Args) -> Result<()> {
    if a.window == 0 {
        return Err(crate::exit::usage("--window must be at least 1"));
    }
    if a.points == 0 {
        return Err(crate::exit::usage("--points must be at least 1"));
    }
    let taus = a
        .taus
        .as_deref()
        .map(|s| crate::cmd::policy::parse_frames("--taus", s))
        .transpose()?;
    let frames = a
        .frames
        .as_deref()
        .map(|s| crate::cmd::policy::parse_frames("--frames", s))
        .transpose()?;
    let page_size = a.page_size;
    // Only the size-over-time points need a second pass (they are placed by the length).
    let twice = a.json || a.svg_time.is_some();
    let (mut reader, name, again) =
        crate::spool::open_trace(&a.trace, a.format, &a.read.options(), twice)?;

    // One streaming pass; everything kept is per page or per window, never per reference.
    let mut pass = WsPass::new(WsOptions {
        window: a.window,
        taus,
        frames,
    });
    let mut buf = Vec::with_capacity(1 << 14);
    while reader.read_pages(page_size, &mut buf)? > 0 {
        for &(p, _) in &buf {
            pass.access(p);
        }
    }
    let n = pass.references();
    if n == 0 {
        anyhow::bail!("{name}: the trace holds no accesses");
    }
    let mut report = pass.finish(&name);
    if let Some(again) = again {
        let mut reader = again.open()?;
        let mut over = OverTime::new(a.window, n, a.points);
        while reader.read_pages(page_size, &mut buf)? > 0 {
            for &(p, _) in &buf {
                over.access(p);
            }
        }
        report.over_time = over.finish();
    }

    if let Some(path) = &a.svg_time {
        let title = format!("working-set size over time, window {}: {name}", a.window);
        let axes = Axes {
            title: &title,
            x: "time (references)",
            y: "|W(t, window)| (pages)",
            log_x: false,
        };
        let s = Series {
            name: format!("window {}", a.window),
            points: report
                .over_time
                .iter()
                .map(|p| (p.t as f64, p.size as f64))
                .collect(),
        };
        line_chart(path, &axes, &[s])?;
    }
    if let Some(path) = &a.svg_mean {
        let title = format!("mean working-set size: {name}");
        let axes = Axes {
            title: &title,
            x: "window (references)",
            y: "mean |W(t, window)| (pages)",
            log_x: true,
        };
        let s = Series {
            name: "mean size".into(),
            points: report
                .mean_size
                .iter()
                .map(|m| (m.tau as f64, m.mean))
                .collect(),
        };
        line_chart(path, &axes, &[s])?;
    }

    let mut out = std::io::stdout().lock();
    if a.json {
        // Through a `Value`, whose keys are sorted: the order `--json` has always printed.
        serde_json::to_writer_pretty(&mut out, &serde_json::to_value(&report)?)?;
        writeln!(out)?;
        return Ok(());
    }
    let (cold, mean_w, peak) = (
        report.reuse.cold,
        report.mean_size_at_window,
        report.peak_size_at_window,
    );
    writeln!(out, "{name}: {n} page references, {cold} distinct pages")?;
    writeln!(out, "\nmean working-set size by window τ")?;
    writeln!(out, "{:>12} {:>12}", "τ", "mean |W|")?;
    for m in &report.mean_size {
        writeln!(out, "{:>12} {:>12.1}", m.tau, m.mean)?;
    }
    writeln!(
        out,
        "\nwindow {}: mean {mean_w:.1} pages, peak {peak} pages",
        a.window
    )?;
    writeln!(out, "{:>12} {:>16}", "frames", "time over (%)")?;
    for t in &report.thrashing {
        writeln!(out, "{:>12} {:>16.2}", t.frames, 100.0 * t.fraction_over)?;
    }
    writeln!(out, "\nreuse distance (distinct pages between uses)")?;
    writeln!(out, "{:>20} {:>12}", "distance", "references")?;
    for &ReuseBucket {
        from: lo,
        to: hi,
        count: c,
    } in &report.reuse.buckets
    {
        let range = if lo == hi {
            lo.to_string()
        } else {
            format!("{lo}-{hi}")
        };
        writeln!(out, "{range:>20} {c:>12}")?;
    }
    writeln!(out, "{:>20} {cold:>12}", "first use")?;
    Ok(())
}
