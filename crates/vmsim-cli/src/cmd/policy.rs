//! `vmsim policy`: replay a trace's page stream through replacement policies × frame counts.
use anyhow::{bail, Result};
use std::io::Write;
use std::path::PathBuf;
use vmsim_analysis::policy_grid::{self, Cell};
use vmsim_core::replace::PolicyKind;
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
    let size = vmsim_core::PageSize::try_from_bytes(args.page_size.bytes())
        .map_err(|e| crate::exit::usage(format!("--page-size: {e}")))?;
    let (mut reader, name) =
        crate::cmd::run::open_trace(&args.trace, args.format, &args.read.options())?;
    let cells = Cell::grid(&policies, &frames);
    let grid = policy_grid::run_batches(&cells, args.seed, args.jobs, |buf| {
        reader.read_pages(size, buf)
    })?;
    if grid.accesses == 0 {
        bail!("{name}: the trace holds no accesses");
    }
    if args.json {
        let v = serde_json::json!({
            "trace": name, "page_size": args.page_size.bytes(), "accesses": grid.accesses,
            "results": serde_json::to_value(&grid.results)?,
        });
        writeln!(std::io::stdout(), "{}", serde_json::to_string_pretty(&v)?)?;
    } else if args.csv {
        writeln!(
            std::io::stdout(),
            "policy,frames,hits,misses,miss_ratio,evictions,dirty_evictions"
        )?;
        for r in &grid.results {
            writeln!(
                std::io::stdout(),
                "{},{},{},{},{:.6},{},{}",
                r.policy.name(),
                r.frames,
                r.hits,
                r.misses,
                r.miss_ratio,
                r.evictions,
                r.dirty_evictions
            )?;
        }
    } else {
        writeln!(
            std::io::stdout(),
            "{name}: {} page references",
            grid.accesses
        )?;
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
        for r in &grid.results {
            writeln!(
                std::io::stdout(),
                "{:<8} {:>8} {:>12} {:>12} {:>9.2}% {:>12} {:>12}",
                r.policy.name(),
                r.frames,
                r.hits,
                r.misses,
                100.0 * r.miss_ratio,
                r.evictions,
                r.dirty_evictions
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
