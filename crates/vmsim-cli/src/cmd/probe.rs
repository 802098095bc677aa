//! `vmsim probe`: measurements of the real machine. `probe tlb` measures the data-TLB reach
//! with a pointer chase over 1 to 32768 pages and sets the knees it finds next to what CPUID
//! reports.
use anyhow::Result;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

/// Arguments of `vmsim probe`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub what: What,
}

/// What to probe.
#[derive(clap::Subcommand)]
pub enum What {
    /// The data TLBs: ns per access of a random pointer chase, one access per page, over
    /// 1..32768 pages; the knees and the TLB sizes they imply next to CPUID's.
    #[command(
        after_help = "Examples:\n  vmsim probe tlb --quick                # a few seconds\n  \
        vmsim probe tlb --svg tlb.svg          # the curve as a chart\n  \
        vmsim probe tlb --huge --json          # 4 KiB and 2 MiB pages (MADV_HUGEPAGE)"
    )]
    Tlb(TlbArgs),
    /// ASLR: run CMD several times and count the address bits of each region's base that
    /// change between runs.
    #[command(after_help = "Examples:\n  vmsim probe aslr -- sleep 1\n  \
        vmsim probe aslr --runs 64 --json -- /usr/bin/sleep 1")]
    Aslr(AslrArgs),
    /// The cost of a page fault: demand-zero, minor (page cache) and copy-on-write, measured.
    #[command(
        after_help = "Examples:\n  vmsim probe faults\n  vmsim probe faults --pages 65536 --json"
    )]
    Faults(FaultArgs),
}

/// Arguments of `vmsim probe aslr`.
#[derive(clap::Args)]
pub struct AslrArgs {
    /// The program and its arguments (it must run longer than --delay).
    #[arg(last = true, required = true, value_name = "CMD")]
    pub cmd: Vec<String>,
    /// Runs.
    #[arg(long, default_value_t = 16)]
    pub runs: u32,
    /// Milliseconds to let each run start (load its libraries) before its map is read.
    #[arg(long, default_value_t = 50, value_name = "MS")]
    pub delay: u64,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `vmsim probe faults`.
#[derive(clap::Args)]
pub struct FaultArgs {
    /// Pages touched per trial.
    #[arg(long, default_value_t = 16384)]
    pub pages: usize,
    /// Trials (the minimum is kept).
    #[arg(long, default_value_t = 5)]
    pub trials: u32,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `vmsim probe tlb`.
#[derive(clap::Args)]
pub struct TlbArgs {
    /// Fewer accesses and trials: finishes in seconds.
    #[arg(long)]
    pub quick: bool,
    /// Also chase over 2 MiB pages (transparent huge pages, MADV_HUGEPAGE), up to 1024 of
    /// them (2048 without --quick), and say whether the knees move.
    #[arg(long)]
    pub huge: bool,
    /// Largest number of 4 KiB pages.
    #[arg(long, default_value_t = 32768, value_name = "N")]
    pub max_pages: usize,
    /// CPU to pin the chase to.
    #[arg(long, default_value_t = 0)]
    pub cpu: usize,
    /// A rise by more than this factor between neighbouring sizes is a knee.
    #[arg(long, default_value_t = 1.25)]
    pub knee_ratio: f64,
    /// Write the curve(s) as an SVG line chart.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `vmsim probe`.
pub fn run(a: Args) -> Result<()> {
    match a.what {
        What::Tlb(t) => tlb(t),
        What::Aslr(x) => aslr(x),
        What::Faults(f) => faults(f),
    }
}

#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
fn tlb(_a: TlbArgs) -> Result<()> {
    anyhow::bail!("vmsim probe tlb needs Linux on x86-64")
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn tlb(a: TlbArgs) -> Result<()> {
    use serde_json::json;
    use vmsim_linux::tlbprobe::{attribute, knees, probe, Knee, KneeCause, Point, ProbeConfig};
    if !(1..=1 << 20).contains(&a.max_pages) {
        return Err(crate::exit::usage("--max-pages must be from 1 to 1048576"));
    }
    if a.knee_ratio.is_nan() || a.knee_ratio <= 1.0 {
        return Err(crate::exit::usage("--knee-ratio must be above 1"));
    }
    let (steps, trials) = if a.quick {
        (200_000, 3)
    } else {
        (2_000_000, 7)
    };
    let tty = std::io::stderr().is_terminal() && !a.json;
    let mut runs: Vec<(&str, usize, Vec<Point>, Option<u64>)> = Vec::new();
    let mut sizes = vec![("4K", 4096usize, a.max_pages)];
    if a.huge {
        sizes.push(("2M", 2 << 20, if a.quick { 1024 } else { 2048 }));
    }
    for (name, page, max) in sizes {
        let cfg = ProbeConfig {
            page,
            max_pages: max,
            steps,
            trials,
            cpu: a.cpu,
            huge: page > 4096,
            seed: 0x7eb,
        };
        let curve = probe(&cfg, |p| {
            if tty {
                eprint!("\r{name} pages: {:>6} pages, {:.2} ns   ", p.pages, p.ns);
            }
        })?;
        let backed = if page > 4096 { curve.huge_kib } else { None };
        runs.push((name, page, curve.points, backed));
    }
    if tty {
        eprintln!();
    }
    let tlbs = vmsim_linux::cpuid::data_tlbs();
    let vendor = vmsim_linux::cpuid::vendor();
    let caches = vmsim_linux::caches::data_caches(a.cpu)?;
    let found: Vec<Vec<Knee>> = runs.iter().map(|r| knees(&r.2, a.knee_ratio)).collect();
    let causes: Vec<Vec<KneeCause>> = found.iter().map(|k| attribute(k, &caches)).collect();
    let moved = (found.len() == 2).then(|| {
        let tlb = |k: &[Knee], c: &[KneeCause]| {
            k.iter()
                .zip(c)
                .filter(|(_, c)| matches!(c, KneeCause::Tlb { .. }))
                .map(|(k, _)| k.fits)
                .collect::<Vec<_>>()
        };
        tlb(&found[0], &causes[0]) != tlb(&found[1], &causes[1])
    });
    if let Some(svg) = &a.svg {
        let series: Vec<crate::plot::Series> = runs
            .iter()
            .map(|(name, _, pts, _)| crate::plot::Series {
                name: format!("{name} pages"),
                points: pts.iter().map(|p| (p.pages as f64, p.ns)).collect(),
            })
            .collect();
        let axes = crate::plot::Axes {
            title: "pointer chase, one access per page",
            x: "pages",
            y: "ns per access (minimum of trials)",
            log_x: true,
        };
        crate::plot::line_chart(svg, &axes, &series)?;
    }
    if a.json {
        let v = json!({
            "cpu": a.cpu,
            "vendor": vendor,
            "steps": steps,
            "trials": trials,
            "runs": runs.iter().zip(&found).zip(&causes).map(|(((name, page, pts, backed), k), c)| json!({
                "page_size": name,
                "page_bytes": page,
                "points": pts,
                "knees": k.iter().zip(c).map(|(k, c)| {
                    let mut v = serde_json::to_value(k).unwrap_or_default();
                    if let (Some(o), Ok(serde_json::Value::Object(c))) = (v.as_object_mut(), serde_json::to_value(c)) {
                        o.extend(c);
                    }
                    v
                }).collect::<Vec<_>>(),
                "huge_backed_kib": backed,
            })).collect::<Vec<_>>(),
            "data_caches": caches,
            "knees_moved_with_huge_pages": moved,
            "cpuid_tlbs": tlbs,
            "cpuid_note": vmsim_linux::cpuid::why_none(),
        });
        writeln!(std::io::stdout(), "{}", serde_json::to_string_pretty(&v)?)?;
        return Ok(());
    }
    let mut o = std::io::stdout().lock();
    writeln!(
        o,
        "pointer chase on CPU {}, one access per page, minimum of {trials} trials of {steps} accesses",
        a.cpu
    )?;
    for (((name, page, pts, backed), k), causes) in runs.iter().zip(&found).zip(&causes) {
        writeln!(
            o,
            "\n{name} pages{}:",
            backed
                .map(|b| format!(" ({b} KiB of the region in transparent huge pages)"))
                .unwrap_or_default()
        )?;
        writeln!(o, "  {:>6} {:>10} {:>8}", "pages", "reach", "ns")?;
        for p in pts {
            let reach = crate::cmd::pagetable::human((p.pages * page) as u128);
            writeln!(o, "  {:>6} {:>10} {:>8.2}", p.pages, reach, p.ns)?;
        }
        if k.is_empty() {
            writeln!(
                o,
                "  no knee (no rise above {}x between neighbouring sizes)",
                a.knee_ratio
            )?;
        }
        for (i, (k, c)) in k.iter().zip(causes).enumerate() {
            let what = match c {
                KneeCause::DataCache { level, bytes } => format!(
                    "the {} lines touched outgrow the L{level} data cache ({})",
                    k.exceeds,
                    crate::cmd::pagetable::human(u128::from(*bytes))
                ),
                KneeCause::Tlb { level: l @ 1..=2 } => format!(
                    "the L{l} data TLB holds >= {} and < {} {name} entries",
                    k.fits, k.exceeds
                ),
                KneeCause::Tlb { .. } => {
                    "past the TLBs' reach: page walks missing the caches".into()
                }
            };
            writeln!(
                o,
                "  knee {}: {:.2} -> {:.2} ns between {} and {} pages: {what}",
                i + 1,
                k.ns_before,
                k.ns_after,
                k.fits,
                k.exceeds
            )?;
        }
    }
    if let Some(m) = moved {
        writeln!(
            o,
            "\n{}",
            if m {
                "the knees moved with 2 MiB pages"
            } else {
                "the knees did not move with 2 MiB pages: the TLB caches them as smaller pages (in a VM: the host backs guest memory with 4 KiB pages)"
            }
        )?;
    }
    writeln!(o, "\nCPUID ({vendor}) data TLBs:")?;
    if let Some(why) = vmsim_linux::cpuid::why_none() {
        writeln!(o, "  none reported: {why}")?;
    }
    for t in &tlbs {
        let ways = if t.ways == 0 {
            "fully associative".to_string()
        } else {
            format!("{}-way", t.ways)
        };
        writeln!(
            o,
            "  L{} {:<8} {:<9} {:>5} entries, {ways} ({})",
            t.level, t.kind, t.pages, t.entries, t.source
        )?;
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn aslr(_a: AslrArgs) -> Result<()> {
    anyhow::bail!("vmsim probe aslr needs Linux (/proc/PID/maps)")
}

#[cfg(target_os = "linux")]
fn aslr(a: AslrArgs) -> Result<()> {
    use anyhow::Context;
    use vmsim_linux::aslr::{bases, entropy};
    use vmsim_linux::procfs::maps;
    if a.runs < 2 {
        return Err(crate::exit::usage("--runs must be at least 2"));
    }
    let mut runs = Vec::new();
    for _ in 0..a.runs {
        let mut child = std::process::Command::new(&a.cmd[0])
            .args(&a.cmd[1..])
            .stdout(std::process::Stdio::null())
            .spawn()
            .with_context(|| format!("cannot run `{}`", a.cmd[0]))?;
        std::thread::sleep(std::time::Duration::from_millis(a.delay));
        let pid = child.id();
        let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok();
        let text = std::fs::read_to_string(format!("/proc/{pid}/maps"));
        let exited = child.try_wait()?.is_some();
        let _ = child.kill();
        let _ = child.wait();
        let text = match (exited, text) {
            (false, Ok(t)) => t,
            _ => anyhow::bail!(
                "`{}` exited within {} ms, before its map could be read; give a smaller --delay or a longer-running command",
                a.cmd[0],
                a.delay
            ),
        };
        let areas = maps::parse(&format!("/proc/{pid}/maps"), &text)?;
        let exe = exe.map(|p| p.display().to_string());
        runs.push(bases(&areas, exe.as_deref()));
    }
    let e = entropy(&runs);
    if a.json {
        let v = serde_json::json!({"command": a.cmd, "runs": a.runs, "regions": e});
        writeln!(std::io::stdout(), "{}", serde_json::to_string_pretty(&v)?)?;
        return Ok(());
    }
    let mut o = std::io::stdout().lock();
    writeln!(
        o,
        "ASLR of `{}` over {} runs (bits of the base that changed between runs)",
        a.cmd.join(" "),
        a.runs
    )?;
    writeln!(
        o,
        "  {:<28} {:>8} {:>5} {:>9}  first base",
        "region", "distinct", "bits", "bit range"
    )?;
    for r in &e {
        let range = r
            .bit_range
            .map(|(lo, hi)| format!("{lo}-{hi}"))
            .unwrap_or_else(|| "-".into());
        writeln!(
            o,
            "  {:<28} {:>8} {:>5} {:>9}  {:#x}",
            r.region, r.distinct, r.varying_bits, range, r.first
        )?;
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn faults(_a: FaultArgs) -> Result<()> {
    anyhow::bail!("vmsim probe faults needs Linux")
}

#[cfg(target_os = "linux")]
fn faults(a: FaultArgs) -> Result<()> {
    if a.pages == 0 || a.pages > 1 << 20 || a.trials == 0 {
        return Err(crate::exit::usage(
            "--pages must be from 1 to 1048576 and --trials at least 1",
        ));
    }
    let c = vmsim_linux::faultcost::measure(a.pages, a.trials, &std::env::temp_dir())?;
    if a.json {
        writeln!(std::io::stdout(), "{}", serde_json::to_string_pretty(&c)?)?;
        return Ok(());
    }
    let mut o = std::io::stdout().lock();
    writeln!(
        o,
        "page-fault cost, {} pages per trial, cheapest of {} trials",
        c.pages, c.trials
    )?;
    writeln!(
        o,
        "  {:<48} {:>9} {:>7} {:>11}",
        "kind", "ns/fault", "faults", "pages/fault"
    )?;
    for (name, k) in [
        (
            "demand-zero (first write to anonymous memory)",
            c.demand_zero,
        ),
        ("minor (first read of a cached file page)", c.minor),
        ("copy-on-write (first write to a private page)", c.cow),
    ] {
        writeln!(
            o,
            "  {name:<48} {:>9.0} {:>7} {:>11.1}",
            k.ns_per_fault, k.faults, k.pages_per_fault
        )?;
    }
    Ok(())
}
