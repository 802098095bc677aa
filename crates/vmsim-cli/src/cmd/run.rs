//! `vmsim run`: replay a trace through a machine and print its statistics.
use crate::machine_args::MachineArgs;
use anyhow::{Context, Result};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use vmsim_core::event::Recorder;
use vmsim_core::machine::Machine;
use vmsim_trace::{AddressCheck, Format, Record, TraceReader};

/// The built-in default trace (see `crates/vmsim-cli/data/README.md`).
pub const DEFAULT_TRACE: &[u8] = include_bytes!("../../data/default.vmt");
/// How the built-in trace is named in reports.
pub const DEFAULT_TRACE_NAME: &str = "built-in:default.vmt";

/// Arguments of `vmsim run`.
#[derive(clap::Args)]
#[command(after_help = "Examples:\n  vmsim run                      \
    # the built-in trace on the default machine (zen4)\n  \
    vmsim run app.vmt --preset skylake --json\n  \
    vmsim run lackey.out --page-size 2M\n  \
    vmsim run app.vmt --explain 5   # narrate the first 5 accesses")]
pub struct Args {
    /// Trace file (text, valgrind lackey, vmt or page formats; `-` for stdin). Without it, the
    /// built-in trace of a real program runs.
    pub trace: Option<PathBuf>,
    /// Trace format (detected from the content when omitted).
    #[arg(long)]
    pub format: Option<Format>,
    #[command(flatten)]
    pub machine: MachineArgs,
    /// Print the statistics as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Narrate the first N accesses step by step before the statistics.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub explain: u64,
    /// Stop after N records.
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
}

/// Opens the trace named on the command line, or the built-in one.
pub fn open_trace(path: &Option<PathBuf>, format: Option<Format>) -> Result<(TraceReader, String)> {
    Ok(match path {
        None => (
            TraceReader::from_reader(
                DEFAULT_TRACE_NAME,
                std::io::Cursor::new(DEFAULT_TRACE),
                format,
            )?,
            DEFAULT_TRACE_NAME.to_string(),
        ),
        Some(p) if p.as_os_str() == "-" => (
            TraceReader::from_reader("<stdin>", std::io::stdin(), format)?,
            "<stdin>".to_string(),
        ),
        Some(p) => (TraceReader::open(p, format)?, p.display().to_string()),
    })
}

/// Runs `vmsim run`.
pub fn run(args: Args) -> Result<()> {
    let cfg = args.machine.load()?;
    let (mut reader, name) = open_trace(&args.trace, args.format)?;
    let mut machine = Machine::from_config(&cfg)?;
    let geom = *machine.geometry();
    reader = reader.with_address_check(if geom.is_x86() {
        AddressCheck::Canonical(geom.va_bits())
    } else {
        AddressCheck::Width(geom.va_bits())
    });
    let progress = std::io::stderr().is_terminal() && !args.json;
    let bar = progress.then(|| {
        let b = indicatif::ProgressBar::new_spinner();
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {pos} records ({per_sec}) {elapsed}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        b
    });
    let mut buf: Vec<Record> = Vec::with_capacity(8192);
    let mut seen = 0u64;
    let limit = args.limit.unwrap_or(u64::MAX);
    let mut narration = String::new();
    let mut explained = Vec::new();
    'outer: loop {
        let n = reader.read_batch(&mut buf)?;
        if n == 0 {
            break;
        }
        for r in &buf {
            if seen >= limit {
                break 'outer;
            }
            seen += 1;
            if seen <= args.explain {
                let mut rec = Recorder::default();
                machine.access(r.cpu, r.pid, r.addr, r.kind, r.size, &mut rec)?;
                if args.json {
                    explained.push(serde_json::to_value(&rec.events)?);
                } else {
                    narration.push_str(&format!("access {seen}: "));
                    crate::narrate::render(&geom, &rec.events, &mut narration);
                    narration.push('\n');
                }
            } else {
                machine.access(r.cpu, r.pid, r.addr, r.kind, r.size, &mut ())?;
            }
        }
        if let Some(b) = &bar {
            b.set_position(seen);
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let mut report = crate::report::json(&machine, &cfg, &name);
    let mut out = std::io::stdout().lock();
    if args.json {
        if args.explain > 0 {
            report["explain"] = serde_json::Value::Array(explained);
        }
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        out.write_all(narration.as_bytes())?;
        out.write_all(crate::report::text(&report).as_bytes())
            .context("writing the report")?;
    }
    Ok(())
}
