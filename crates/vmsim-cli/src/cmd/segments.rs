//! `vmsim segments`: processes' segments (or whole base-and-bounds address spaces) allocated and
//! freed in a physical memory under first, best or worst fit; the physical map as a bar and a
//! table, external fragmentation, context-switch register saves, internal fragmentation under
//! base and bounds, compaction with the bytes it copies, and segments shared between
//! processes.
use anyhow::{Context, Result};
use std::io::Write;
use std::path::PathBuf;
use vmsim_core::alloc::freelist::Fit;
use vmsim_core::alloc::segment_memory::{Owner, Region, SegmentMemory};
use vmsim_core::kernel::contiguous::{generate, ContiguousOs, Mode, Op, Outcome, SEGMENT_NAMES};
use vmsim_core::kernel::vma::Prot;
use vmsim_core::units::parse_bytes;

/// Arguments of `vmsim segments`.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  vmsim segments                                   # a seeded run of 4 processes in 16 KiB, first fit\n  \
    vmsim segments --fit best --seed 3 --compact\n  \
    vmsim segments --ops A.code=2K,A.heap=3K,B.code=4K,A.stack=1K,-A.heap --memory 16K --va-bits 14 --compact\n  \
    vmsim segments --base-bounds --asize 4K --ops A.code=1K,B.code=1K,C.code=1K,-B --memory 16K --compact --json\n  \
    vmsim segments --ops A.heap=1K,A.code=2K,B.code=A.code,C.code=A.code:r--,-A --compact\n  \
    vmsim segments --ops-file run.ops --json\n\n\
    --ops: P.SEG=SIZE allocates segment SEG (code, heap, data, stack) of process P; -P.SEG frees it;\n\
    -P ends the process; P.SEG=Q.SEG2 maps P's SEG onto the region of Q's SEG2 (segmentation only),\n\
    with Q's protection, or P.SEG=Q.SEG2:PROT with PROT (r--, r-x, rw-...) no wider than Q's: a\n\
    sharer can write only if Q can. The region is freed with its last holder and moved once.\n\
    --ops-file: the same operations, one a line (# comments)."
)]
pub struct Args {
    /// Explicit operations (instead of a seeded run).
    #[arg(long, value_name = "LIST")]
    pub ops: Option<String>,
    /// Explicit operations from a file, one a line.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["ops", "seed", "steps", "procs", "max_size"])]
    pub ops_file: Option<PathBuf>,
    /// Seed of the generated run.
    #[arg(long, default_value_t = 0, conflicts_with = "ops")]
    pub seed: u64,
    /// Operations in the generated run (at most a million).
    #[arg(long, default_value_t = 24, conflicts_with = "ops")]
    pub steps: usize,
    /// Processes in the generated run (1 to 26).
    #[arg(long, default_value_t = 4, conflicts_with = "ops")]
    pub procs: usize,
    /// Largest segment of the generated run (default: the largest an address can reach; under
    /// base and bounds a quarter of --asize).
    #[arg(long, value_name = "SIZE", value_parser = parse_bytes, conflicts_with = "ops")]
    pub max_size: Option<u64>,
    /// Physical memory (at most 64M: its contents are simulated).
    #[arg(long, value_name = "SIZE", default_value = "16K", value_parser = parse_bytes)]
    pub memory: u64,
    /// Placement policy.
    #[arg(long, default_value = "first", value_parser = ["first", "best", "worst"])]
    pub fit: String,
    /// Virtual-address bits under segmentation (the top two select the segment).
    #[arg(long, default_value_t = 14)]
    pub va_bits: u8,
    /// Base and bounds instead of segmentation: each process is one region of --asize bytes.
    #[arg(long)]
    pub base_bounds: bool,
    /// Address-space size under base and bounds.
    #[arg(long, value_name = "SIZE", default_value = "16K", value_parser = parse_bytes)]
    pub asize: u64,
    /// Compact at the end and show the map again.
    #[arg(long)]
    pub compact: bool,
    /// Characters in the map's bar.
    #[arg(long, default_value_t = 64)]
    pub width: u64,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Process names, numbered in order of appearance.
fn pid(names: &mut Vec<String>, n: &str) -> Result<usize, String> {
    if n.is_empty() || !n.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(format!("`{n}` is not a process name (letters and digits)"));
    }
    Ok(match names.iter().position(|x| x == n) {
        Some(i) => i,
        None => {
            names.push(n.to_string());
            names.len() - 1
        }
    })
}

fn seg(s: &str) -> Result<usize, String> {
    SEGMENT_NAMES
        .iter()
        .position(|&n| n == s)
        .ok_or_else(|| format!("`{s}` is not a segment (code, heap, data, stack)"))
}

/// Parses one operation: `P.SEG=SIZE`, `P.SEG=Q.SEG[:PROT]`, `-P.SEG` or `-P`.
fn parse_op(item: &str, names: &mut Vec<String>) -> Result<Op, String> {
    if let Some(rest) = item.strip_prefix('-') {
        return Ok(match rest.split_once('.') {
            Some((p, s)) => Op::Free {
                pid: pid(names, p)?,
                seg: seg(s)?,
            },
            None => Op::Exit {
                pid: pid(names, rest)?,
            },
        });
    }
    let (target, rhs) = item
        .split_once('=')
        .ok_or_else(|| format!("`{item}` is not P.SEG=SIZE, P.SEG=Q.SEG, -P.SEG or -P"))?;
    let (p, s) = target
        .split_once('.')
        .ok_or_else(|| format!("`{item}` is not P.SEG=SIZE or P.SEG=Q.SEG"))?;
    // A segment name starts with a letter, a size (1.5K) with a digit.
    if let Some((q, from)) = rhs
        .split_once('.')
        .filter(|(_, f)| f.starts_with(|c: char| c.is_ascii_alphabetic()))
    {
        let (from_seg, prot) = match from.split_once(':') {
            Some((f, pr)) => (f, Some(Prot::from_letters(pr).map_err(|e| e.to_string())?)),
            None => (from, None),
        };
        return Ok(Op::Share {
            pid: pid(names, p)?,
            seg: seg(s)?,
            from: pid(names, q)?,
            from_seg: seg(from_seg)?,
            prot,
        });
    }
    let size = parse_bytes(rhs)?;
    if size == 0 {
        return Err(format!("`{item}`: a segment needs at least one byte"));
    }
    Ok(Op::Alloc {
        pid: pid(names, p)?,
        seg: seg(s)?,
        size,
    })
}

/// Parses `--ops`, naming processes in order of appearance.
fn parse_ops(list: &str, names: &mut Vec<String>) -> Result<Vec<Op>, String> {
    list.split(',')
        .map(|item| parse_op(item.trim(), names))
        .collect()
}

/// Parses an `--ops-file`: one operation a line, `#` comments; errors name the 1-based line.
fn parse_ops_file(text: &str, names: &mut Vec<String>) -> Result<Vec<Op>, String> {
    let mut ops = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let item = line.split('#').next().unwrap_or("").trim();
        if !item.is_empty() {
            ops.push(parse_op(item, names).map_err(|e| format!("{}: {e}", i + 1))?);
        }
    }
    Ok(ops)
}

fn describe(op: Op, names: &[String]) -> String {
    match op {
        Op::Alloc { pid, seg, size } => format!("{}.{}={size}", names[pid], SEGMENT_NAMES[seg]),
        Op::Free { pid, seg } => format!("-{}.{}", names[pid], SEGMENT_NAMES[seg]),
        Op::Exit { pid } => format!("-{}", names[pid]),
        Op::Share {
            pid,
            seg,
            from,
            from_seg,
            prot,
        } => format!(
            "{}.{}={}.{}{}",
            names[pid],
            SEGMENT_NAMES[seg],
            names[from],
            SEGMENT_NAMES[from_seg],
            prot.map(|p| format!(":{}", p.letters()))
                .unwrap_or_default()
        ),
    }
}

/// `A code`, or `A` for a whole address space.
fn holder(o: Owner, names: &[String]) -> String {
    match o.seg {
        Some(s) => format!("{} {}", names[o.pid], SEGMENT_NAMES[s]),
        None => names[o.pid].clone(),
    }
}

/// `, shared with B code, C code` when a region has sharers.
fn shared_with(sharers: &[Owner], names: &[String]) -> String {
    if sharers.is_empty() {
        return String::new();
    }
    let v: Vec<String> = sharers.iter().map(|&o| holder(o, names)).collect();
    format!(", shared with {}", v.join(", "))
}

fn outcome_text(o: Outcome) -> String {
    match o {
        Outcome::Placed { start } => format!("placed at {start:#06x}"),
        Outcome::Grown => "inside its address space".into(),
        Outcome::NoFit {
            need,
            free,
            largest,
        } => format!("no fit: {need} bytes needed, {free} free, largest hole {largest}"),
        Outcome::AddressSpaceFull { need } => {
            format!("does not fit its address space ({need} bytes)")
        }
        Outcome::AlreadyAllocated => "already allocated".into(),
        Outcome::NotAllocated => "nothing to free".into(),
        Outcome::Freed => "freed".into(),
        Outcome::Shared { start, prot } => {
            format!("shares the region at {start:#06x}, {}", prot.letters())
        }
        Outcome::WiderThanOwner { owner, asked } => format!(
            "not shared: {} is wider than the owner's {}",
            asked.letters(),
            owner.letters()
        ),
        Outcome::NoSegments => "not shared: base and bounds has no segments".into(),
        Outcome::Unshared { holders } => format!("share dropped, {holders} holders keep it"),
    }
}

/// One character per `size / width` bytes: the owner of the byte at its middle.
fn bar(mem: &SegmentMemory, map: &[Region], names: &[String], width: u64) -> String {
    let width = width.clamp(1, mem.size().max(1));
    (0..width)
        .map(|i| {
            let at = (2 * i + 1) * mem.size() / (2 * width);
            let r = map.iter().find(|r| at >= r.start && at < r.start + r.size);
            match r.and_then(|r| r.owner) {
                Some(o) => names[o.pid].chars().next().unwrap_or('?'),
                None => '.',
            }
        })
        .collect()
}

fn print_map(
    out: &mut impl Write,
    os: &ContiguousOs,
    names: &[String],
    width: u64,
) -> std::io::Result<()> {
    let mem = os.memory();
    let map = mem.map();
    writeln!(out, "  |{}|", bar(mem, &map, names, width))?;
    writeln!(out, "  {:>8} {:>8} {:>8}  owner", "start", "end", "size")?;
    for r in &map {
        let owner = match r.owner {
            Some(o) => match o.seg {
                Some(_) => format!("{}{}", holder(o, names), shared_with(&r.sharers, names)),
                None => format!("{} (address space)", names[o.pid]),
            },
            None => "free".into(),
        };
        writeln!(
            out,
            "  {:>#8x} {:>#8x} {:>8}  {owner}",
            r.start,
            r.start + r.size,
            r.size
        )?;
    }
    let f = mem.free_list();
    writeln!(
        out,
        "  free {} bytes in {} holes, largest {}: external fragmentation {:.3}",
        f.iter().map(|h| h.1).sum::<u64>(),
        f.len(),
        f.iter().map(|h| h.1).max().unwrap_or(0),
        mem.fragmentation()
    )
}

/// Runs `vmsim segments`.
pub fn run(a: Args) -> Result<()> {
    let usage = |m: &str| crate::exit::usage(m);
    let fit = match a.fit.as_str() {
        "best" => Fit::Best,
        "worst" => Fit::Worst,
        _ => Fit::First,
    };
    // The contents are simulated byte for byte.
    if a.memory == 0 || a.memory > 64 << 20 {
        return Err(usage("--memory must be from 1 byte to 64M"));
    }
    let mode = if a.base_bounds {
        if a.asize == 0 {
            return Err(usage("--asize must be positive"));
        }
        Mode::BaseBounds { asize: a.asize }
    } else {
        if !(3..=40).contains(&a.va_bits) {
            return Err(usage("--va-bits must be from 3 to 40"));
        }
        Mode::Segmentation { va_bits: a.va_bits }
    };
    let mut names = Vec::new();
    let (ops, source) = match (&a.ops, &a.ops_file) {
        (_, Some(path)) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let ops = parse_ops_file(&text, &mut names)
                .map_err(|e| anyhow::anyhow!("{}:{e}", path.display()))?;
            (ops, path.display().to_string())
        }
        (Some(list), None) => (
            parse_ops(list, &mut names).map_err(|e| usage(&format!("--ops: {e}")))?,
            "--ops".to_string(),
        ),
        (None, None) => {
            if !(1..=26).contains(&a.procs) {
                return Err(usage("--procs must be from 1 to 26"));
            }
            if a.steps > 1_000_000 {
                return Err(usage("--steps must be at most 1000000"));
            }
            names = (0..a.procs)
                .map(|i| ((b'A' + i as u8) as char).to_string())
                .collect();
            let max = a.max_size.unwrap_or(match mode {
                Mode::Segmentation { .. } => mode.max_segment(),
                Mode::BaseBounds { asize } => (asize / 4).max(1),
            });
            if max == 0 {
                return Err(usage("--max-size must be positive"));
            }
            (
                generate(a.seed, a.steps, a.procs, max),
                format!("seed {}, {} processes", a.seed, a.procs),
            )
        }
    };
    let mut os = ContiguousOs::new(mode, a.memory, fit, &names);
    for op in &ops {
        if let Op::Alloc { size, .. } = *op {
            if !a.base_bounds && size > mode.max_segment() {
                return Err(usage(&format!(
                    "{} is larger than a segment can be with {} address bits ({} bytes)",
                    describe(*op, &names),
                    a.va_bits,
                    mode.max_segment()
                )));
            }
        }
    }
    let outcomes: Vec<Outcome> = ops.iter().map(|&op| os.apply(op)).collect();
    let before = os.memory().map();
    let frag_before = os.memory().fragmentation();
    let internal: Vec<(String, u64, u64)> = if a.base_bounds {
        (0..names.len())
            .filter(|&p| os.processes()[p].bb.is_some())
            .map(|p| {
                let l = os.layout(p);
                (names[p].clone(), l.internal_fragmentation(), l.size)
            })
            .collect()
    } else {
        Vec::new()
    };
    let sw = os.switches();
    let mut out = std::io::stdout().lock();
    if a.json {
        let compaction = if a.compact {
            let c = os.compact();
            let moves: Vec<serde_json::Value> = c
                .moves
                .iter()
                .map(|m| {
                    serde_json::json!({
                        "process": names[m.owner.pid],
                        "segment": m.owner.seg.map(|s| SEGMENT_NAMES[s]),
                        "sharers": m.sharers.iter().map(|o| serde_json::json!({
                            "process": names[o.pid], "segment": o.seg.map(|s| SEGMENT_NAMES[s]),
                        })).collect::<Vec<_>>(),
                        "from": m.from, "to": m.to, "bytes": m.bytes,
                    })
                })
                .collect();
            serde_json::json!({
                "moves": moves, "bytes_copied": c.bytes_copied,
                "map": os.memory().map(), "fragmentation": os.memory().fragmentation(),
            })
        } else {
            serde_json::Value::Null
        };
        let v = serde_json::json!({
            "mode": mode,
            "memory": a.memory,
            "fit": a.fit,
            "processes": names,
            "operations": ops.iter().zip(&outcomes).map(|(op, o)| serde_json::json!({
                "op": describe(*op, &names), "detail": op, "result": o,
            })).collect::<Vec<_>>(),
            "map": before,
            "fragmentation": frag_before,
            "free_bytes": os.memory().free_list().iter().map(|h| h.1).sum::<u64>(),
            "context_switches": sw,
            "internal_fragmentation": internal.iter().map(|(n, b, s)| serde_json::json!({
                "process": n, "bytes": b, "asize": s,
            })).collect::<Vec<_>>(),
            "compaction": compaction,
        });
        serde_json::to_writer_pretty(&mut out, &v)?;
        writeln!(out)?;
        return Ok(());
    }
    let what = match mode {
        Mode::Segmentation { va_bits } => format!(
            "segmentation ({va_bits}-bit addresses, segments up to {} bytes)",
            mode.max_segment()
        ),
        Mode::BaseBounds { asize } => format!("base and bounds ({asize}-byte address spaces)"),
    };
    writeln!(
        out,
        "{what}, {} bytes of physical memory, {} fit, {} operations ({source})",
        a.memory,
        a.fit,
        ops.len()
    )?;
    for (i, (op, o)) in ops.iter().zip(&outcomes).enumerate() {
        writeln!(
            out,
            "  {i:>3}  {:<16} {}",
            describe(*op, &names),
            outcome_text(*o)
        )?;
    }
    writeln!(out, "physical memory:")?;
    print_map(&mut out, &os, &names, a.width)?;
    writeln!(
        out,
        "context switches: {}, {} registers saved into process structures, {} restored",
        sw.switches, sw.register_saves, sw.register_restores
    )?;
    if a.base_bounds {
        let total: u64 = internal.iter().map(|i| i.1).sum();
        let parts: Vec<String> = internal
            .iter()
            .map(|(n, b, s)| format!("{n} {b} of {s}"))
            .collect();
        writeln!(
            out,
            "internal fragmentation (unused middle of each address space): {total} bytes ({})",
            parts.join(", ")
        )?;
    }
    if a.compact {
        let c = os.compact();
        writeln!(
            out,
            "after compaction: {} regions moved, {} bytes copied, fragmentation {:.3} -> {:.3}",
            c.moves.len(),
            c.bytes_copied,
            frag_before,
            os.memory().fragmentation()
        )?;
        for m in &c.moves {
            writeln!(
                out,
                "  {}{}: {:#x} -> {:#x}, {} bytes copied; base register{} rewritten",
                holder(m.owner, &names),
                shared_with(&m.sharers, &names),
                m.from,
                m.to,
                m.bytes,
                if m.sharers.is_empty() { "" } else { "s" }
            )?;
        }
        print_map(&mut out, &os, &names, a.width)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops_parse_and_name_processes_in_order() {
        let mut names = Vec::new();
        let ops = parse_ops("B.code=2K, A.stack=10,-B.code,-A", &mut names).unwrap();
        assert_eq!(names, ["B", "A"]);
        assert_eq!(
            ops,
            [
                Op::Alloc {
                    pid: 0,
                    seg: 0,
                    size: 2048
                },
                Op::Alloc {
                    pid: 1,
                    seg: 3,
                    size: 10
                },
                Op::Free { pid: 0, seg: 0 },
                Op::Exit { pid: 1 },
            ]
        );
        assert!(parse_ops("A.text=1", &mut names).is_err());
        assert!(parse_ops("A.code", &mut names).is_err());
        assert!(parse_ops("A.code=0", &mut names).is_err());
        assert!(parse_ops("-", &mut names).is_err());
        let ops = parse_ops("C.heap=A.heap,B.stack=C.data:r--,A.heap=2K", &mut names).unwrap();
        assert_eq!(names, ["B", "A", "C"]);
        assert_eq!(
            ops,
            [
                Op::Share {
                    pid: 2,
                    seg: 1,
                    from: 1,
                    from_seg: 1,
                    prot: None
                },
                Op::Share {
                    pid: 0,
                    seg: 3,
                    from: 2,
                    from_seg: 2,
                    prot: Some(Prot::R)
                },
                Op::Alloc {
                    pid: 1,
                    seg: 1,
                    size: 2048
                },
            ]
        );
        assert!(parse_ops("B.code=A.text", &mut names).is_err());
        assert!(parse_ops("B.code=A.code:rx", &mut names).is_err());
    }
}
