//! `vmsim ws`: Denning working sets of a trace's page stream: the mean working-set size for
//! every window τ, the working-set size over time (phase changes show as steps), the
//! reuse-distance histogram, and how often the working set exceeds a memory size (thrashing).
use crate::plot::{line_chart, Axes, Series};
use anyhow::Result;
use std::io::Write;
use std::path::PathBuf;
use vmsim_analysis::mrc::LruStack;
use vmsim_analysis::ws::{WindowSize, WorkingSetCurve};
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
    // Without --taus, every power of two is a candidate window until the length is known.
    let candidates: Vec<usize> = match &taus {
        Some(t) => t.clone(),
        None => std::iter::successors(Some(1usize), |&x| x.checked_mul(2)).collect(),
    };
    let mut windows = candidates.clone();
    windows.push(a.window);
    let mut curve = WorkingSetCurve::new(&windows);
    let mut window = WindowSize::new(a.window);
    // `by_size[w]`: times at which |W(t, window)| = w.
    let mut by_size: Vec<u64> = Vec::new();
    let mut lru = LruStack::new();
    let mut buf = Vec::with_capacity(1 << 14);
    let mut n = 0usize;
    while reader.read_pages(page_size, &mut buf)? > 0 {
        for &(p, _) in &buf {
            curve.access(p);
            let w = window.access(p);
            if by_size.len() <= w {
                by_size.resize(w + 1, 0);
            }
            by_size[w] += 1;
            let _ = lru.access(p);
        }
        n += buf.len();
    }
    if n == 0 {
        anyhow::bail!("{name}: the trace holds no accesses");
    }
    let taus = taus.unwrap_or_else(|| candidates.into_iter().take_while(|&x| x <= n).collect());
    let mut asked = taus.clone();
    asked.push(a.window);
    let mut means_at = curve.finish(&asked);
    let mean_w = means_at.pop().flatten().unwrap_or(0.0);
    let means: Vec<(usize, f64)> = taus
        .iter()
        .zip(means_at)
        .map(|(&t, m)| (t, m.unwrap_or(0.0)))
        .collect();

    let peak = by_size.len().saturating_sub(1);
    let step = n.div_ceil(a.points).max(1);
    let mut over_time: Vec<(usize, usize)> = Vec::new();
    if let Some(again) = again {
        let mut reader = again.open()?;
        let mut window = WindowSize::new(a.window);
        let mut t = 0usize;
        while reader.read_pages(page_size, &mut buf)? > 0 {
            for &(p, _) in &buf {
                let w = window.access(p);
                if t.is_multiple_of(step) {
                    over_time.push((t, w));
                }
                t += 1;
            }
        }
    }
    let frames = frames.unwrap_or_else(|| {
        let mut v: Vec<usize> = (1..=4).map(|q| (peak * q / 4).max(1)).collect();
        v.dedup();
        v
    });
    let thrash: Vec<(usize, f64)> = frames
        .iter()
        .map(|&m| {
            let over: u64 = by_size.iter().skip(m.saturating_add(1)).sum();
            (m, over as f64 / n as f64)
        })
        .collect();

    // Reuse distances in power-of-two buckets: [1], [2, 3], [4, 7], ...
    let hist = lru.into_histogram().hist;
    let mut buckets: Vec<(usize, usize, u64)> = Vec::new();
    for (d, &c) in hist.iter().enumerate().skip(1) {
        let b = d.ilog2() as usize;
        while buckets.len() <= b {
            let lo = 1usize << buckets.len();
            buckets.push((lo, 2 * lo - 1, 0));
        }
        buckets[b].2 += c;
    }
    let reused: u64 = buckets.iter().map(|b| b.2).sum();
    // Every distinct page's first use is the one reference without a reuse distance.
    let cold = n as u64 - reused;

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
            points: over_time
                .iter()
                .map(|&(t, w)| (t as f64, w as f64))
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
            points: means.iter().map(|&(t, m)| (t as f64, m)).collect(),
        };
        line_chart(path, &axes, &[s])?;
    }

    let mut out = std::io::stdout().lock();
    if a.json {
        let v = serde_json::json!({
            "trace": name, "references": n, "footprint": cold,
            "window": a.window, "mean_size_at_window": mean_w, "peak_size_at_window": peak,
            "mean_size": means.iter().map(|&(t, m)| serde_json::json!({"tau": t, "mean": m}))
                .collect::<Vec<_>>(),
            "over_time": over_time.iter().map(|&(t, w)| serde_json::json!({"t": t, "size": w}))
                .collect::<Vec<_>>(),
            "thrashing": thrash.iter()
                .map(|&(m, f)| serde_json::json!({"frames": m, "fraction_over": f}))
                .collect::<Vec<_>>(),
            "reuse": {
                "cold": cold,
                "buckets": buckets.iter()
                    .map(|&(lo, hi, c)| serde_json::json!({"from": lo, "to": hi, "count": c}))
                    .collect::<Vec<_>>(),
            },
        });
        serde_json::to_writer_pretty(&mut out, &v)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(out, "{name}: {n} page references, {cold} distinct pages")?;
    writeln!(out, "\nmean working-set size by window τ")?;
    writeln!(out, "{:>12} {:>12}", "τ", "mean |W|")?;
    for &(t, m) in &means {
        writeln!(out, "{t:>12} {m:>12.1}")?;
    }
    writeln!(
        out,
        "\nwindow {}: mean {mean_w:.1} pages, peak {peak} pages",
        a.window
    )?;
    writeln!(out, "{:>12} {:>16}", "frames", "time over (%)")?;
    for &(m, f) in &thrash {
        writeln!(out, "{m:>12} {:>16.2}", 100.0 * f)?;
    }
    writeln!(out, "\nreuse distance (distinct pages between uses)")?;
    writeln!(out, "{:>20} {:>12}", "distance", "references")?;
    for &(lo, hi, c) in &buckets {
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
