//! `vmsim inspect`: a live process's virtual memory as Linux holds it (areas low to high with
//! their roles, sizes, permissions, files and gaps; RSS, PSS, USS, swap; pages present,
//! swapped, soft-dirty; huge pages) and the page tables vmsim's radix model builds from its
//! pages, held against the kernel's `VmPTE`.
use anyhow::{bail, Context, Result};
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `vmsim inspect`.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  vmsim inspect self                      # vmsim itself\n  \
    vmsim inspect 1234 --json | jq .model_table_pages\n  \
    sudo vmsim inspect 1234                 # as root: frame numbers and huge pages too\n  \
    vmsim inspect --delay 500 -- python3 -c 'x = bytearray(1 << 28); input()'\n  \
    vmsim inspect self --snapshot self.json # areas and present pages, for replays"
)]
pub struct Args {
    /// `self` or a process id (omit with `-- CMD ARGS`).
    pub target: Option<String>,
    /// Start CMD, let it run for --delay, stop it, inspect it, let it go on.
    #[arg(last = true, value_name = "CMD")]
    pub cmd: Vec<String>,
    /// Milliseconds to let CMD run before inspecting it.
    #[arg(long, default_value_t = 200, value_name = "MS")]
    pub delay: u64,
    /// Save the areas and the runs of present pages as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub snapshot: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `vmsim inspect`.
#[cfg(not(target_os = "linux"))]
pub fn run(_a: Args) -> Result<()> {
    bail!("vmsim inspect needs Linux (/proc/PID/smaps and pagemap)")
}

/// Runs `vmsim inspect`.
#[cfg(target_os = "linux")]
pub fn run(a: Args) -> Result<()> {
    use vmsim_linux::inspect::{inspect, Target};
    use vmsim_linux::sys::signal_stop;
    let keep = a.snapshot.is_some();
    let report = match (&a.target, a.cmd.is_empty()) {
        (Some(_), false) => return Err(crate::exit::usage("give a PID or `-- CMD`, not both")),
        (None, true) => return Err(crate::exit::usage("give `self`, a PID, or `-- CMD ARGS`")),
        (Some(t), true) => {
            let target = match t.as_str() {
                "self" => Target::SelfProcess,
                p => Target::Pid(p.parse().map_err(|_| {
                    crate::exit::usage(format!("`{p}` is not `self` or a process id"))
                })?),
            };
            inspect(target, keep)?
        }
        (None, false) => {
            let mut child = std::process::Command::new(&a.cmd[0])
                .args(&a.cmd[1..])
                .spawn()
                .with_context(|| format!("cannot run `{}`", a.cmd[0]))?;
            std::thread::sleep(std::time::Duration::from_millis(a.delay));
            if let Some(status) = child.try_wait()? {
                bail!(
                    "`{}` exited ({status}) within {} ms, before it could be inspected; \
                     give a smaller --delay or a longer-running command",
                    a.cmd[0],
                    a.delay
                );
            }
            let pid = child.id();
            signal_stop(pid, true).context("stopping the command")?;
            let r = inspect(Target::Pid(pid), keep);
            signal_stop(pid, false).context("continuing the command")?;
            let r = r?;
            child.wait()?;
            r
        }
    };
    if let Some(path) = &a.snapshot {
        let mut f = crate::output::Output::create(path, &[])?;
        serde_json::to_writer(&mut f, &report.snapshot())
            .with_context(|| format!("cannot write {}", path.display()))?;
        f.commit()?;
    }
    let mut out = std::io::stdout().lock();
    if a.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
        return Ok(());
    }
    text(&mut out, &report)?;
    Ok(())
}

#[cfg(target_os = "linux")]
fn text(out: &mut impl Write, r: &vmsim_linux::inspect::Inspection) -> std::io::Result<()> {
    use vmsim_core::units::format_bytes;
    use vmsim_linux::tables::Agreement;
    writeln!(
        out,
        "pid {} ({}){}",
        r.pid,
        r.name,
        r.exe
            .as_deref()
            .map(|e| format!(" {e}"))
            .unwrap_or_default()
    )?;
    writeln!(out, "areas, low to high (KiB; pages from pagemap):")?;
    writeln!(
        out,
        "  {:<12} {:<12} {:>6} {:<4} {:<8} {:>7} {:>7} {:>7} {:>5} {:>7} {:>5} {:>6} {:>5}  file",
        "start",
        "end",
        "size",
        "perm",
        "role",
        "rss",
        "pss",
        "uss",
        "swap",
        "present",
        "swapd",
        "sdirty",
        "thp"
    )?;
    for a in &r.areas {
        // The vsyscall page lies in the kernel half: the distance to it is no gap of user space.
        if a.gap_before >= 1 << 20 && a.region != vmsim_linux::layout::Region::Vsyscall {
            let gap = crate::cmd::pagetable::human(u128::from(a.gap_before));
            writeln!(out, "  {gap:>26} gap")?;
        }
        let (pr, sw, sd) = a
            .pages
            .map(|p| {
                (
                    p.present.to_string(),
                    p.swapped.to_string(),
                    p.soft_dirty.to_string(),
                )
            })
            .unwrap_or(("-".into(), "-".into(), "-".into()));
        writeln!(
            out,
            "  {:<12x} {:<12x} {:>6} {:<4} {:<8} {:>7} {:>7} {:>7} {:>5} {:>7} {:>5} {:>6} {:>5}  {}",
            a.start,
            a.end,
            format_bytes(a.end - a.start),
            a.perms,
            a.region.name(),
            a.kib.rss,
            a.kib.pss,
            a.kib.uss(),
            a.kib.swap,
            pr,
            sw,
            sd,
            a.kib.anon_huge_pages,
            a.path
        )?;
    }
    let t = &r.totals;
    if r.areas.is_empty() {
        writeln!(
            out,
            "total (from status): VSZ {} KiB, RSS {} KiB (anon {}, file {}), swap {} KiB; PSS, USS, shared and THP need smaps",
            t.vsz_kib, t.rss_kib, t.anon_kib, t.file_kib, t.swap_kib
        )?;
    } else {
        writeln!(
            out,
            "total: VSZ {} KiB, RSS {} KiB (anon {}, file {}, shared {}), PSS {} KiB, USS {} KiB, swap {} KiB, THP {} KiB",
            t.vsz_kib, t.rss_kib, t.anon_kib, t.file_kib, t.shared_kib, t.pss_kib, t.uss_kib, t.swap_kib, t.thp_kib
        )?;
    }
    if r.model_vs_vmpte != Agreement::NotModelled {
        writeln!(
            out,
            "pages: {} present ({} in huge pages), {} swapped, {} soft-dirty, {} exclusive, {} file or shared",
            t.pages.present, t.pages.in_huge_pages, t.pages.swapped, t.pages.soft_dirty, t.pages.exclusive, t.pages.file_or_shared
        )?;
        let m = &r.model_table_pages;
        writeln!(
            out,
            "page tables (model from pagemap): PGD {} + PUD {} + PMD {} + PTE {} (+{} deposited for huge pages) = {} pages counted by VmPTE = {} KiB",
            m.pgd, m.pud, m.pmd, m.pte, m.thp_deposit, m.vmpte_pages(), m.vmpte_pages() * 4
        )?;
    }
    let verdict = match r.model_vs_vmpte {
        Agreement::Exact => "the model is exact".to_string(),
        Agreement::LowerBound { extra_pages } => format!(
            "the model is a lower bound: the kernel holds {extra_pages} more table pages (kept after memory was freed)"
        ),
        Agreement::NotModelled => "not modelled (pagemap unreadable)".to_string(),
        Agreement::ModelAbove { extra_pages } => format!(
            "the model needs {extra_pages} pages more than the kernel holds (the process changed while it was read)"
        ),
    };
    writeln!(out, "kernel VmPTE: {} KiB: {verdict}", r.vmpte_kib)?;
    for n in &r.visibility.notes {
        writeln!(out, "note: {n}")?;
    }
    Ok(())
}
