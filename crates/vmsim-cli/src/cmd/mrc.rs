//! `vmsim mrc`: miss-ratio curves of a trace's page stream: exact LRU for every cache size in
//! one pass (Mattson's stack algorithm), OPT's curve, and a SHARDS-sampled LRU curve with its
//! error against the exact one; as a table, CSV, JSON and an SVG plot.
use anyhow::{Context, Result};
use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;
use vmsim_analysis::mrc::{lru_histogram, opt_histogram, ShardsCurve};
use vmsim_trace::Format;

/// Arguments of `vmsim mrc`.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  vmsim mrc                          # the built-in trace, LRU and OPT\n  \
    vmsim mrc prog.vmt --shards 0.01 --svg mrc.svg\n  vmsim mrc prog.vmt --sizes 64,256,1024 --json"
)]
pub struct Args {
    /// Trace file (`-` for stdin; the built-in trace when omitted).
    pub trace: Option<PathBuf>,
    /// Input format (detected when omitted).
    #[arg(long)]
    pub format: Option<Format>,
    /// Page size in bytes.
    #[arg(long, default_value_t = 4096)]
    pub page_size: u64,
    /// Cache sizes (frames), comma separated; default: powers of two up to the footprint.
    #[arg(long, value_name = "LIST")]
    pub sizes: Option<String>,
    /// Leave out OPT's curve (it costs more than LRU's on long traces).
    #[arg(long)]
    pub no_opt: bool,
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
    let (refs, name) = crate::cmd::policy::read_pages(&a.trace, a.format, a.page_size)?;
    let pages: Vec<u64> = refs.iter().map(|r| r.0).collect();
    let lru = lru_histogram(pages.iter().copied());
    let footprint = lru.distinct() as usize;
    let sizes: Vec<usize> = match &a.sizes {
        Some(s) => s
            .split(',')
            .map(|x| match x.trim().parse::<usize>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(crate::exit::usage(format!(
                    "--sizes: `{x}` is not a positive frame count"
                ))),
            })
            .collect::<Result<_>>()?,
        None => {
            let mut v: Vec<usize> = std::iter::successors(Some(1usize), |&x| x.checked_mul(2))
                .take_while(|&x| x < footprint)
                .collect();
            v.push(footprint.max(1));
            v
        }
    };
    let opt = (!a.no_opt).then(|| opt_histogram(&pages));
    let shards = a
        .shards
        .map(|r| ShardsCurve::build(pages.iter().copied(), r));
    let max = sizes.iter().copied().max().unwrap_or(1);
    let shards_err = shards.as_ref().map(|s| s.max_error(&lru, max));
    let rows: Vec<serde_json::Value> = sizes
        .iter()
        .map(|&n| {
            serde_json::json!({
                "frames": n,
                "lru": lru.miss_ratio(n),
                "opt": opt.as_ref().map(|o| o.miss_ratio(n)),
                "shards": shards.as_ref().map(|s| s.miss_ratio(n)),
            })
        })
        .collect();
    if let Some(path) = &a.svg {
        std::fs::write(path, svg(&sizes, &rows))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let mut out = std::io::stdout().lock();
    if a.json {
        let v = serde_json::json!({
            "trace": name, "references": pages.len(), "footprint": footprint,
            "shards_rate": a.shards, "shards_max_error": shards_err, "curve": rows,
        });
        serde_json::to_writer_pretty(&mut out, &v)?;
        writeln!(out)?;
    } else if a.csv {
        writeln!(out, "frames,lru,opt,shards")?;
        for r in &rows {
            let f = |k: &str| r[k].as_f64().map_or(String::new(), |x| format!("{x:.6}"));
            writeln!(
                out,
                "{},{},{},{}",
                r["frames"],
                f("lru"),
                f("opt"),
                f("shards")
            )?;
        }
    } else {
        writeln!(
            out,
            "{name}: {} page references, footprint {footprint} pages",
            pages.len()
        )?;
        writeln!(
            out,
            "{:>10} {:>10} {:>10} {:>10}",
            "frames", "LRU miss%", "OPT miss%", "SHARDS%"
        )?;
        for r in &rows {
            let f = |k: &str| {
                r[k].as_f64()
                    .map_or("-".to_string(), |x| format!("{:.3}", x * 100.0))
            };
            writeln!(
                out,
                "{:>10} {:>10} {:>10} {:>10}",
                r["frames"],
                f("lru"),
                f("opt"),
                f("shards")
            )?;
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

/// A small self-contained SVG: miss ratio against log2(frames), one line per curve.
fn svg(sizes: &[usize], rows: &[serde_json::Value]) -> String {
    let (w, h, m) = (640.0, 400.0, 50.0);
    let lx = |n: usize| (n as f64).log2();
    let (x0, x1) = (
        lx(sizes.iter().copied().min().unwrap_or(1)),
        lx(sizes.iter().copied().max().unwrap_or(1)).max(1.0),
    );
    let px = |n: usize| m + (lx(n) - x0) / (x1 - x0).max(1e-9) * (w - 2.0 * m);
    let py = |r: f64| h - m - r * (h - 2.0 * m);
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        s,
        r#"<rect width="100%" height="100%" fill="white"/><line x1="{m}" y1="{}" x2="{}" y2="{}" stroke="black"/><line x1="{m}" y1="{m}" x2="{m}" y2="{}" stroke="black"/>"#,
        h - m,
        w - m,
        h - m,
        h - m
    );
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">cache size (frames, log scale)</text><text x="15" y="{}" transform="rotate(-90 15 {})" text-anchor="middle">miss ratio</text>"#,
        w / 2.0,
        h - 10.0,
        h / 2.0,
        h / 2.0
    );
    for (i, (key, color)) in [
        ("lru", "#1f77b4"),
        ("opt", "#2ca02c"),
        ("shards", "#d62728"),
    ]
    .iter()
    .enumerate()
    {
        let pts: Vec<String> = sizes
            .iter()
            .zip(rows)
            .filter_map(|(&n, r)| {
                r[*key]
                    .as_f64()
                    .map(|v| format!("{:.1},{:.1}", px(n), py(v)))
            })
            .collect();
        if pts.is_empty() {
            continue;
        }
        let _ = writeln!(
            s,
            r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"/>"#,
            pts.join(" ")
        );
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" fill="{color}">{key}</text>"#,
            w - m - 60.0,
            m + 15.0 * i as f64
        );
    }
    for &n in sizes.iter().step_by((sizes.len() / 8).max(1)) {
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{}" text-anchor="middle">{n}</text>"#,
            px(n),
            h - m + 15.0
        );
    }
    s.push_str("</svg>\n");
    s
}
