//! `vmsim memcheck`: replays a program's memory-API trace (malloc, calloc, realloc, free, loads
//! and stores into blocks, pointer stores) and reports what a memory checker would find, the
//! blocks still allocated at exit by reachability, and the brk/mmap calls the allocator made.
use anyhow::{anyhow, Context, Result};
use std::io::Write;
use std::path::PathBuf;
use vmsim_core::memapi::memcheck::{check, Report};
use vmsim_core::memapi::memtrace::parse;
use vmsim_core::memapi::process_heap::{HeapConfig, SysCall};
use vmsim_core::units::parse_bytes;

/// The example trace, run when no file is given.
const EXAMPLE: &str = include_str!("../../../../examples/memcheck.trace");

/// Arguments of `vmsim memcheck`.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  vmsim memcheck                            # the built-in example, one error of each kind\n  \
    vmsim memcheck prog.trace --mmap-threshold 1M --json\n\n\
    Trace lines: `p = malloc 16`, `q = calloc 4 8`, `p = realloc p 32`, `free p`, `store p+8 8`,\n\
    `load p 4`, `store p+16 = q` (a pointer store), `r = p`, `r = null`, `exit`; `#` comments."
)]
pub struct Args {
    /// Trace file (the built-in example when omitted).
    pub file: Option<PathBuf>,
    /// M_MMAP_THRESHOLD: requests whose chunk is at least this large are mmapped (setting it
    /// turns off glibc's dynamic threshold, as mallopt does).
    #[arg(long, value_name = "SIZE")]
    pub mmap_threshold: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `vmsim memcheck`.
pub fn run(a: Args) -> Result<()> {
    let mut config = HeapConfig::default();
    if let Some(t) = &a.mmap_threshold {
        config.mmap_threshold =
            parse_bytes(t).map_err(|e| crate::exit::usage(format!("--mmap-threshold: {e}")))?;
        if config.mmap_threshold == 0 {
            return Err(crate::exit::usage("--mmap-threshold must be positive"));
        }
        config.dynamic_threshold = false;
    }
    let (name, text) = match &a.file {
        Some(p) => (
            p.display().to_string(),
            std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?,
        ),
        None => ("examples/memcheck.trace".to_string(), EXAMPLE.to_string()),
    };
    let trace = parse(&text).map_err(|e| anyhow!("{name}:{}: {}", e.line, e.message))?;
    let report = check(&trace, config);
    let mut out = std::io::stdout().lock();
    if a.json {
        let v = serde_json::json!({
            "source": name,
            "operations": trace.ops.len(),
            "errors": report.errors.iter().map(|e| serde_json::json!({
                "op": e.site.op, "line": e.site.line, "class": e.error.class(),
                "message": e.error.to_string(), "detail": e.error,
            })).collect::<Vec<_>>(),
            "leaks": report.leaks,
            "heap": report.heap,
            "summary": report.summary,
        });
        serde_json::to_writer_pretty(&mut out, &v)?;
        writeln!(out)?;
        return Ok(());
    }
    print_text(&mut out, &name, trace.ops.len(), &report)?;
    Ok(())
}

fn print_text(out: &mut impl Write, name: &str, ops: usize, r: &Report) -> Result<()> {
    writeln!(out, "{name}: {ops} operations, {} errors", r.errors.len())?;
    for e in &r.errors {
        writeln!(out, "  {}: {}", e.site, e.error)?;
    }
    writeln!(out, "heap growth:")?;
    if r.heap.is_empty() {
        writeln!(out, "  no system calls")?;
    }
    for e in &r.heap {
        let what = match e.call {
            SysCall::Brk { from, to } if to >= from => {
                format!("brk {from:#x} -> {to:#x} (+{})", to - from)
            }
            SysCall::Brk { from, to } => format!("brk {from:#x} -> {to:#x} (-{})", from - to),
            SysCall::Mmap { addr, len } => format!("mmap {len} bytes at {addr:#x}"),
            SysCall::Munmap { addr, len } => format!("munmap {len} bytes at {addr:#x}"),
        };
        writeln!(out, "  {}: {what}", e.site)?;
    }
    let s = &r.summary;
    writeln!(
        out,
        "  heap top (brk) {:#x} at exit, {} bytes above the start, peak {:#x}; peak mmapped {} bytes; mmap threshold {} at exit",
        s.brk_end,
        s.brk_end - s.brk_start,
        s.brk_peak,
        s.mmap_peak,
        s.mmap_threshold_end
    )?;
    writeln!(
        out,
        "heap summary: {} allocations ({} bytes), {} frees; in use at exit: {} bytes in {} blocks",
        s.allocated.blocks, s.allocated.bytes, s.frees, s.in_use.bytes, s.in_use.blocks
    )?;
    for l in &r.leaks {
        writeln!(
            out,
            "  {:<16} {} bytes at {:#x} allocated at {}",
            l.kind.name(),
            l.block.size,
            l.block.addr,
            l.block.allocated
        )?;
    }
    writeln!(
        out,
        "leak summary: definitely lost {} bytes in {} blocks, indirectly lost {} bytes in {} blocks, still reachable {} bytes in {} blocks",
        s.definitely_lost.bytes,
        s.definitely_lost.blocks,
        s.indirectly_lost.bytes,
        s.indirectly_lost.blocks,
        s.still_reachable.bytes,
        s.still_reachable.blocks
    )?;
    Ok(())
}
