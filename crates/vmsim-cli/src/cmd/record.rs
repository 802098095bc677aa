//! `vmsim record`: a real program's memory accesses, recorded under valgrind's lackey tool and
//! streamed through a pipe into a vmsim trace, its memory map saved beside it; or, with
//! `--faults`, its real page faults from the kernel's tracepoint via perf.
use anyhow::{bail, Result};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use vmsim_trace::Format;

/// Arguments of `vmsim record`.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  vmsim record -- ls /                     # writes ls.vmt and ls.vmt.maps\n  \
    vmsim record -o sort.vmt --data-only --limit 1000000 -- sort /etc/services\n  \
    vmsim record --sample 10 -o py.vmt -- python3 -c 'print(sum(range(10**6)))'\n  \
    vmsim run ls.vmt                         # replay what was recorded\n  \
    vmsim record --faults -o ls.faults.txt -- ls /   # the real page faults (needs perf)"
)]
pub struct Args {
    /// The program and its arguments.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub cmd: Vec<String>,
    /// Output trace (default: the program's name + .vmt, or + .faults.txt with --faults);
    /// its format comes from the extension unless --to is given.
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_name = "FORMAT", value_parser = crate::cmd::run::writable_format_parser())]
    pub to: Option<Format>,
    /// Keep data accesses only (drop instruction fetches).
    #[arg(long)]
    pub data_only: bool,
    /// Stop after N records are written (the program is then ended).
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
    /// Keep one record in every N.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub sample: u64,
    /// Record the real page faults (perf, tracepoint exceptions:page_fault_user) instead of
    /// every access.
    #[arg(long)]
    pub faults: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `vmsim record`.
#[cfg(not(target_os = "linux"))]
pub fn run(_a: Args) -> Result<()> {
    bail!("vmsim record needs Linux (valgrind, perf and /proc)")
}

/// Runs `vmsim record`.
#[cfg(target_os = "linux")]
pub fn run(a: Args) -> Result<()> {
    use crate::cmd::convert::output_format;
    if a.sample == 0 {
        return Err(crate::exit::usage("--sample must be at least 1"));
    }
    if a.limit == Some(0) {
        return Err(crate::exit::usage("--limit must be at least 1"));
    }
    let prog = std::path::Path::new(&a.cmd[0])
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "record".into());
    if a.faults {
        if a.data_only || a.limit.is_some() || a.sample != 1 {
            return Err(crate::exit::usage(
                "--data-only, --limit and --sample apply to access traces, not --faults",
            ));
        }
        let out = a
            .output
            .clone()
            .unwrap_or_else(|| PathBuf::from(format!("{prog}.faults.txt")));
        let (format, codec) = output_format(&out, a.to, "--to")?;
        return faults(&a, &out, format, codec);
    }
    let out = a
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{prog}.vmt")));
    let (format, codec) = output_format(&out, a.to, "--to")?;
    if out.as_os_str() == "-" && !a.json {
        // The summary would mix with the trace.
        return Err(crate::exit::usage(
            "-o - needs --json (the summary goes to stderr then)",
        ));
    }
    let opts = vmsim_linux::record::Options {
        data_only: a.data_only,
        limit: a.limit,
        sample: a.sample,
        format,
        codec,
    };
    let tty = std::io::stderr().is_terminal();
    let t0 = std::time::Instant::now();
    let mut output = crate::output::Output::create(&out, &[])?;
    let recorded = vmsim_linux::record::record(&a.cmd, &mut output, &opts, |p| {
        if tty {
            let secs = t0.elapsed().as_secs_f64().max(1e-9);
            eprint!(
                "\r{} records read ({:.1} M/s), {} written, {} of log",
                p.records_read,
                p.records_read as f64 / secs / 1e6,
                p.records_written,
                crate::cmd::pagetable::human(u128::from(p.log_bytes))
            );
        }
    })?;
    if tty {
        eprintln!();
    }
    output.commit()?;
    let maps_path = if out.as_os_str() == "-" {
        None
    } else {
        let mut p = out.clone().into_os_string();
        p.push(".maps");
        Some(PathBuf::from(p))
    };
    if let (Some(path), Some(m)) = (&maps_path, &recorded.maps) {
        crate::output::write_file(path, m.as_bytes())?;
    }
    let p = &recorded.progress;
    if a.json {
        let v = serde_json::json!({
            "command": a.cmd,
            "output": out,
            "format": format!("{format:?}").to_lowercase(),
            "maps": recorded.maps.as_ref().and(maps_path.as_ref()),
            "records_read": p.records_read,
            "records_written": p.records_written,
            "log_bytes": p.log_bytes,
            "exit_code": recorded.exit_code,
            "stopped_at_limit": recorded.stopped_at_limit,
        });
        if out.as_os_str() == "-" {
            eprintln!("{v}");
        } else {
            writeln!(std::io::stdout(), "{}", serde_json::to_string_pretty(&v)?)?;
        }
        return Ok(());
    }
    let mut o = std::io::stdout().lock();
    writeln!(
        o,
        "recorded {} of {} accesses of `{}` into {}{}",
        p.records_written,
        p.records_read,
        a.cmd.join(" "),
        out.display(),
        if recorded.stopped_at_limit {
            " (stopped at --limit)"
        } else {
            ""
        }
    )?;
    writeln!(
        o,
        "lackey log streamed through a pipe: {}",
        crate::cmd::pagetable::human(u128::from(p.log_bytes))
    )?;
    match (&maps_path, &recorded.maps) {
        (Some(m), Some(_)) => writeln!(o, "memory map: {}", m.display())?,
        _ => writeln!(o, "memory map: not read (the program ended first)")?,
    }
    if let Some(c) = recorded.exit_code {
        writeln!(o, "program exit code: {c}")?;
    }
    Ok(())
}

#[cfg(target_os = "linux")]
fn faults(
    a: &Args,
    out: &std::path::Path,
    format: Format,
    codec: Option<vmsim_trace::Codec>,
) -> Result<()> {
    use vmsim_core::AccessKind;
    use vmsim_linux::faults::{record_faults, Cause};
    use vmsim_trace::{Record, TraceWriter};
    let scratch = std::env::temp_dir().join(format!("vmsim-perf-{}.data", std::process::id()));
    let faults = record_faults(&a.cmd, &scratch)?;
    let mut w = TraceWriter::compressed(crate::output::Output::create(out, &[])?, format, codec)?;
    let mut counts = std::collections::BTreeMap::<(&str, &str), u64>::new();
    for f in &faults {
        let mut r = Record::new(f.kind(), f.addr);
        r.pid = f.pid;
        w.write(&r)?;
        let kind = match f.kind() {
            AccessKind::Read => "read",
            AccessKind::Write => "write",
            AccessKind::Fetch => "fetch",
        };
        let cause = match f.cause() {
            Cause::NotPresent => "not-present",
            Cause::Protection => "protection",
        };
        *counts.entry((kind, cause)).or_default() += 1;
    }
    let file = w.finish()?;
    if faults.is_empty() {
        bail!("perf recorded no page faults for `{}`", a.cmd.join(" "));
    }
    file.commit()?;
    if a.json {
        let by: Vec<_> = counts
            .iter()
            .map(|((k, c), n)| serde_json::json!({"kind": k, "cause": c, "faults": n}))
            .collect();
        let v = serde_json::json!({"command": a.cmd, "output": out, "faults": faults.len(), "by_kind": by});
        writeln!(std::io::stdout(), "{}", serde_json::to_string_pretty(&v)?)?;
        return Ok(());
    }
    let mut o = std::io::stdout().lock();
    writeln!(
        o,
        "{} page faults of `{}` into {}",
        faults.len(),
        a.cmd.join(" "),
        out.display()
    )?;
    writeln!(o, "  {:<6} {:<12} {:>8}", "access", "cause", "faults")?;
    for ((k, c), n) in counts {
        writeln!(o, "  {k:<6} {c:<12} {n:>8}")?;
    }
    Ok(())
}
