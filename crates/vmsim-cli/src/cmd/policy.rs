//! `vmsim policy`: replay a trace's page stream through replacement policies × frame counts.
use anyhow::{bail, Result};
use std::io::Write;
use std::path::PathBuf;
use vmsim_core::replace::{simulate_kind, PolicyKind, Stats};
use vmsim_core::PageSize;
use vmsim_trace::Format;

/// Arguments of `vmsim policy`.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  vmsim policy prog.vmt --policy lru,fifo,clock,arc,opt --frames 64,256,1024\n  \
    vmsim policy --list\n  vmsim policy prog.lackey --frames 128 --json"
)]
pub struct Args {
    /// Trace file (`-` for stdin; the bundled default trace when omitted).
    pub trace: Option<PathBuf>,
    /// Input format (detected from the content when omitted).
    #[arg(long, value_name = "FORMAT", value_parser = crate::cmd::run::format_parser())]
    pub format: Option<Format>,
    #[command(flatten)]
    pub read: crate::trace_args::TraceOptions,
    /// Policies, comma separated (see --list).
    #[arg(long, default_value = "opt,lru,fifo,clock,arc")]
    pub policy: String,
    /// Frame counts, comma separated.
    #[arg(long, default_value = "4,16,64")]
    pub frames: String,
    /// Page size of the address formats' pages: 4K, 2M, 1G (or bytes, e.g. 4096), as in `run`.
    #[arg(long, value_name = "SIZE", default_value = "4K")]
    pub page_size: PageSize,
    /// Seed for randomised policies.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Worker threads for independent cells (results do not depend on it).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = crate::cmd::policy::parse_jobs)]
    pub jobs: usize,
    /// Print JSON.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// Print CSV.
    #[arg(long)]
    pub csv: bool,
    /// List the policies and exit.
    #[arg(long)]
    pub list: bool,
}

/// Parses `--policy`.
pub fn parse_policies(s: &str) -> Result<Vec<PolicyKind>> {
    s.split(',')
        .map(|p| {
            p.trim()
                .parse::<PolicyKind>()
                .map_err(|e| crate::exit::usage(format!("--policy: {e}")))
        })
        .collect()
}

/// Parses a list of frame counts given to `flag`.
pub fn parse_frames(flag: &str, s: &str) -> Result<Vec<usize>> {
    s.split(',')
        .map(|f| match f.trim().parse::<usize>() {
            Ok(0) => Err(crate::exit::usage(format!(
                "{flag}: the number of frames must be at least 1"
            ))),
            Ok(n) => Ok(n),
            Err(_) => Err(crate::exit::usage(format!(
                "{flag}: `{f}` is not a positive number"
            ))),
        })
        .collect()
}

/// Reads the whole page stream of a trace (`page_size` applies to address formats).
pub fn read_pages(
    trace: &Option<PathBuf>,
    format: Option<Format>,
    opts: &vmsim_trace::ReadOptions,
    page_size: u64,
) -> Result<(Vec<(u64, bool)>, String)> {
    let size = PageSize::try_from_bytes(page_size)
        .map_err(|e| crate::exit::usage(format!("--page-size: {e}")))?;
    let (mut reader, name) = crate::cmd::run::open_trace(trace, format, opts)?;
    let mut buf = Vec::with_capacity(1 << 14);
    let mut refs = Vec::new();
    while reader.read_pages(size, &mut buf)? > 0 {
        refs.extend_from_slice(&buf);
    }
    if refs.is_empty() {
        bail!("{name}: the trace holds no accesses");
    }
    Ok((refs, name))
}

/// Runs every cell on `jobs` threads; `out[i]` belongs to `cells[i]` whatever the schedule.
pub fn run_cells(
    cells: &[(PolicyKind, usize)],
    refs: &[(u64, bool)],
    seed: u64,
    jobs: usize,
) -> Result<Vec<Stats>> {
    use rayon::prelude::*;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.max(1))
        .build()?;
    let out: Result<Vec<Stats>, _> = pool.install(|| {
        cells
            .par_iter()
            .map(|&(k, f)| simulate_kind(k, f, refs, seed))
            .collect()
    });
    Ok(out?)
}

/// Runs `vmsim policy`.
pub fn run(args: Args) -> Result<()> {
    if args.list {
        for k in PolicyKind::ALL {
            writeln!(std::io::stdout(), "{:<8} {}", k.name(), k.describe())?;
        }
        return Ok(());
    }
    let policies = parse_policies(&args.policy)?;
    let frames = parse_frames("--frames", &args.frames)?;
    let (refs, name) = read_pages(
        &args.trace,
        args.format,
        &args.read.options(),
        args.page_size.bytes(),
    )?;
    let cells: Vec<(PolicyKind, usize)> = policies
        .iter()
        .flat_map(|&p| frames.iter().map(move |&f| (p, f)))
        .collect();
    let stats = run_cells(&cells, &refs, args.seed, args.jobs)?;
    if args.json {
        let results: Vec<serde_json::Value> = cells
            .iter()
            .zip(&stats)
            .map(|(&(p, f), s)| {
                serde_json::json!({
                    "policy": p.name(), "frames": f, "hits": s.hits, "misses": s.misses,
                    "miss_ratio": s.miss_ratio(), "evictions": s.evictions,
                    "dirty_evictions": s.dirty_evictions,
                })
            })
            .collect();
        let v = serde_json::json!({
            "trace": name, "page_size": args.page_size.bytes(), "accesses": refs.len(),
            "results": results,
        });
        writeln!(std::io::stdout(), "{}", serde_json::to_string_pretty(&v)?)?;
    } else if args.csv {
        writeln!(
            std::io::stdout(),
            "policy,frames,hits,misses,miss_ratio,evictions,dirty_evictions"
        )?;
        for (&(p, f), s) in cells.iter().zip(&stats) {
            writeln!(
                std::io::stdout(),
                "{},{},{},{},{:.6},{},{}",
                p.name(),
                f,
                s.hits,
                s.misses,
                s.miss_ratio(),
                s.evictions,
                s.dirty_evictions
            )?;
        }
    } else {
        writeln!(std::io::stdout(), "{name}: {} page references", refs.len())?;
        writeln!(
            std::io::stdout(),
            "{:<8} {:>8} {:>12} {:>12} {:>10} {:>12} {:>12}",
            "policy",
            "frames",
            "hits",
            "misses",
            "miss%",
            "evictions",
            "writebacks"
        )?;
        for (&(p, f), s) in cells.iter().zip(&stats) {
            writeln!(
                std::io::stdout(),
                "{:<8} {:>8} {:>12} {:>12} {:>9.2}% {:>12} {:>12}",
                p.name(),
                f,
                s.hits,
                s.misses,
                100.0 * s.miss_ratio(),
                s.evictions,
                s.dirty_evictions
            )?;
        }
    }
    Ok(())
}

/// Worker threads: 1 to 256 (more than the cells or the cores only costs start-up).
pub fn parse_jobs(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if (1..=256).contains(&n) => Ok(n),
        _ => Err(format!("`{s}` is not a thread count from 1 to 256")),
    }
}
