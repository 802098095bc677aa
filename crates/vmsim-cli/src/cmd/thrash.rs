//! `vmsim thrash`: the classic thrashing curve. One process touches a working set of W pages in
//! a random order (seeded), pass after pass, on machines whose RAM is swept from below W to
//! above it; for each size it reports major faults and the effective access time. Below the
//! working set every pass re-reads most pages from swap; once RAM holds it, faults stop: the
//! knee.
use anyhow::Result;
use std::io::Write;
use vmsim_core::config::MachineConfig;
use vmsim_core::kernel::LinuxConfig;
use vmsim_core::machine::Machine;
use vmsim_core::replace::ReclaimPolicy;
use vmsim_core::{AccessKind, VirtAddr};

/// Nanoseconds charged per memory access, minor fault and major fault in the effective access
/// time (DRAM access; a kernel trap and page-table update; a read from an SSD swap device).
const MEM_NS: f64 = 100.0;
const MINOR_NS: f64 = 1_000.0;
const MAJOR_NS: f64 = 100_000.0;

/// The largest working set (16 GiB of 4 KiB pages), passes and RAM percentage accepted: each
/// RAM size replays every pass, so larger values only make a run that never ends, and their
/// products must fit the machine's sizes.
const MAX_WORKING_SET: u64 = 1 << 22;
const MAX_PASSES: u64 = 10_000;
const MAX_PERCENT: u64 = 1_000;

/// The access order of each pass: a random permutation (xorshift, seeded), no order a policy
/// could exploit. Made one pass at a time into one buffer, the same sequence at every RAM size.
struct Orders {
    x: u64,
    order: Vec<u64>,
}

impl Orders {
    fn new(seed: u64) -> Self {
        Orders {
            x: seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1,
            order: Vec::new(),
        }
    }

    /// The next pass's order over `w` pages.
    fn next_pass(&mut self, w: u64) -> &[u64] {
        self.order.clear();
        self.order.extend(0..w);
        let x = &mut self.x;
        for i in (1..self.order.len()).rev() {
            *x ^= *x << 13;
            *x ^= *x >> 7;
            *x ^= *x << 17;
            self.order.swap(i, (*x % (i as u64 + 1)) as usize);
        }
        &self.order
    }
}

/// Arguments of `vmsim thrash`.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  vmsim thrash\n  vmsim thrash --working-set 4096 --policy lru --json"
)]
pub struct Args {
    /// Pages in the working set.
    #[arg(long, value_name = "PAGES", default_value_t = 8192)]
    pub working_set: u64,
    /// Passes over the working set at each RAM size (the first pass only fills memory).
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub passes: u64,
    /// Smallest RAM, in percent of the working set.
    #[arg(long, value_name = "PCT", default_value_t = 50)]
    pub from: u64,
    /// Largest RAM, in percent of the working set.
    #[arg(long, value_name = "PCT", default_value_t = 150)]
    pub to: u64,
    /// Step, in percent.
    #[arg(long, value_name = "PCT", default_value_t = 10)]
    pub step: u64,
    /// Page reclaim policy (as `vmsim run --policy`).
    #[arg(long, value_name = "NAME", default_value = "two-list")]
    pub policy: ReclaimPolicy,
    /// Seed of the access order.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `vmsim thrash`.
pub fn run(a: Args) -> Result<()> {
    if a.working_set == 0 || a.passes < 2 || a.step == 0 || a.from == 0 || a.from > a.to {
        return Err(crate::exit::usage(
            "need --working-set >= 1, --passes >= 2, --step >= 1 and 1 <= --from <= --to",
        ));
    }
    if a.working_set > MAX_WORKING_SET {
        return Err(crate::exit::usage(format!(
            "--working-set: at most {MAX_WORKING_SET} pages"
        )));
    }
    if a.passes > MAX_PASSES {
        return Err(crate::exit::usage(format!(
            "--passes: at most {MAX_PASSES}"
        )));
    }
    if a.to > MAX_PERCENT {
        return Err(crate::exit::usage(format!(
            "--to: at most {MAX_PERCENT} (percent of the working set)"
        )));
    }
    let mut cfg = MachineConfig::preset("zen4")?;
    cfg.cpus = 1;
    let w = a.working_set;
    let mut rows = Vec::new();
    let mut pct = a.from;
    while pct <= a.to {
        let ram_pages = (w * pct / 100).max(64);
        cfg.memory = ram_pages * 4096;
        let linux = LinuxConfig {
            policy: a.policy,
            swap_pages: u32::try_from(2 * w + 64).unwrap_or(u32::MAX),
            swap_readahead: 0,
            ..LinuxConfig::default()
        };
        let mut m = Machine::linux(&cfg, linux)?;
        let mut measured = (0u64, 0u64, 0u64);
        let mut orders = Orders::new(a.seed);
        for pass in 0..a.passes {
            let before = m.kernel().stats();
            for &p in orders.next_pass(w) {
                let kind = if pass == 0 {
                    AccessKind::Write
                } else {
                    AccessKind::Read
                };
                m.replay_access(
                    0,
                    1,
                    VirtAddr::new_unchecked(0x10_0000_0000 + p * 4096),
                    kind,
                    8,
                    &mut (),
                )?;
            }
            if pass > 0 {
                let s = m.kernel().stats();
                measured.0 += w;
                measured.1 += s.minor_faults - before.minor_faults;
                measured.2 += s.major_faults - before.major_faults;
            }
        }
        let (acc, minor, major) = measured;
        let eat = MEM_NS + (minor as f64 * MINOR_NS + major as f64 * MAJOR_NS) / acc as f64;
        rows.push(serde_json::json!({
            "ram_percent": pct,
            "ram_kib": ram_pages * 4,
            "accesses": acc,
            "minor_faults": minor,
            "major_faults": major,
            "major_per_1000": major as f64 * 1000.0 / acc as f64,
            "effective_access_ns": eat,
            "swap_outs": m.kernel().stats().swap_outs,
        }));
        pct = pct.saturating_add(a.step);
    }
    let mut out = std::io::stdout().lock();
    if a.json {
        serde_json::to_writer_pretty(
            &mut out,
            &serde_json::json!({
                "working_set_pages": w,
                "passes": a.passes,
                "policy": a.policy.name(),
                "ns": {"memory": MEM_NS, "minor_fault": MINOR_NS, "major_fault": MAJOR_NS},
                "points": rows,
            }),
        )?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(
        out,
        "working set {w} pages ({} KiB), {} measured passes in random order, {} reclaim",
        w * 4,
        a.passes - 1,
        a.policy.name()
    )?;
    writeln!(
        out,
        "effective access time = {MEM_NS} ns + minor x {MINOR_NS} ns + major x {MAJOR_NS} ns, per access\n"
    )?;
    writeln!(
        out,
        "{:>6} {:>10} {:>12} {:>10} {:>12}  ",
        "RAM %", "RAM KiB", "major", "per 1000", "EAT ns"
    )?;
    let max = rows
        .iter()
        .map(|r| r["effective_access_ns"].as_f64().unwrap_or(0.0))
        .fold(1.0, f64::max);
    for r in &rows {
        let eat = r["effective_access_ns"].as_f64().unwrap_or(0.0);
        let bar = "#".repeat(((eat / max) * 40.0).round() as usize);
        writeln!(
            out,
            "{:>6} {:>10} {:>12} {:>10.1} {:>12.0}  {bar}",
            r["ram_percent"].as_u64().unwrap_or(0),
            r["ram_kib"].as_u64().unwrap_or(0),
            r["major_faults"].as_u64().unwrap_or(0),
            r["major_per_1000"].as_f64().unwrap_or(0.0),
            eat
        )?;
    }
    Ok(())
}
