//! `vmsim malloc`: a heap simulator. Runs an operation list or a seeded generated workload on
//! one allocator (free list, segregated lists, buddy, slab) and reports fragmentation, search
//! and failures after every step and at the end, or compares several allocators on the same
//! workload in one table.
use anyhow::{Context, Result};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use vmsim_core::alloc::metrics::{Snapshot, Summary};
use vmsim_core::alloc::slab::CacheStats;
use vmsim_core::alloc::workload::{self, Generate, Lifetime, Line, Outcome, SizeDist, Step};
use vmsim_core::alloc::{
    AllocFailure, AllocOutcome, Allocator, Fit, FreeList, HeapBuddy, ListOrder, LiveBlock,
    Segregated, Slab,
};
use vmsim_core::units::parse_bytes;

/// The most operations a generated workload may have (each is kept in memory).
const MAX_OPS: usize = 100_000_000;

/// Arguments of `vmsim malloc`.
#[derive(clap::Args)]
#[command(
    after_help = "An operation list has one operation per line (# starts a comment):\n  \
    p = alloc 100      allocate 100 bytes, the pointer named p\n  \
    alloc 64           allocate without keeping the pointer (a leak)\n  \
    free p             free p (again: a double free; a failed alloc leaves p NULL)\n  \
    free p+8           free a pointer into the middle of p's block (an invalid free)\n\n\
    Examples:\n  vmsim malloc                                   # the built-in generated workload, first fit\n  \
    vmsim malloc ops.txt --fit best --coalesce --header 8 --explain\n  \
    vmsim malloc --allocator buddy --sizes pow2:16-1K --ops 500 --seed 3\n  \
    vmsim malloc --compare freelist:first,freelist:best,segregated,buddy,slab --lifetime fifo\n  \
    vmsim malloc ops.txt --compare --json"
)]
pub struct Args {
    /// Operation list to run (a generated workload when omitted).
    pub ops_file: Option<PathBuf>,
    /// The allocator.
    #[arg(long, value_enum, default_value_t = Kind::Freelist)]
    pub allocator: Kind,
    /// Run several allocators on the same workload and print one table: a comma-separated
    /// list of freelist[:FIT], segregated, buddy, slab (all four when no list is given).
    #[arg(long, value_name = "LIST", num_args = 0..=1,
          default_missing_value = "freelist,segregated,buddy,slab", conflicts_with = "explain")]
    pub compare: Option<String>,
    /// First byte of the heap (hex or decimal).
    #[arg(long, default_value = "0x10000")]
    pub base: String,
    /// Bytes in the heap.
    #[arg(long, default_value = "64K")]
    pub size: String,
    /// Free list: which free chunk a request takes: first, next, best or worst.
    #[arg(long, default_value = "first")]
    pub fit: Fit,
    /// Free list: where freed chunks go in the list: address, size-asc, size-desc, front or
    /// back.
    #[arg(long, default_value = "address")]
    pub order: ListOrder,
    /// Free list: merge a freed chunk with its list neighbours when adjacent.
    #[arg(long)]
    pub coalesce: bool,
    /// Header bytes at the start of every block (free list, segregated, buddy).
    #[arg(long, default_value = "0")]
    pub header: String,
    /// Free list: round requests up to a multiple of this many bytes.
    #[arg(long)]
    pub align: Option<String>,
    /// Segregated size classes and slab object sizes, ascending (comma separated).
    #[arg(long, default_value = "16,32,64,128,256,512,1024")]
    pub classes: String,
    /// Buddy: the smallest block (a power of two).
    #[arg(long, default_value = "16")]
    pub min_block: String,
    /// Slab: the page size of the page allocator slabs come from (a power of two).
    #[arg(long, default_value = "4K")]
    pub page: String,
    /// Generated workload: operations (at most 10^8).
    #[arg(long, default_value_t = 1000)]
    pub ops: usize,
    /// Generated workload: request sizes, fixed:N, uniform:MIN-MAX, pow2:MIN-MAX or exp:MEAN.
    #[arg(long, default_value = "uniform:8-512")]
    pub sizes: String,
    /// Generated workload: probability that an operation allocates (else it frees).
    #[arg(long, default_value_t = 0.6)]
    pub alloc_fraction: f64,
    /// Generated workload: which live pointer a free releases: random, fifo (the oldest) or
    /// lifo (the youngest).
    #[arg(long, default_value = "random")]
    pub lifetime: Lifetime,
    /// Generated workload: seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Print the heap map and the free list after every operation.
    #[arg(long)]
    pub explain: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// The allocators.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// A free list under --fit, --order, --coalesce, --header, --align.
    Freelist,
    /// Segregated free lists, one per --classes size.
    Segregated,
    /// A binary buddy heap in blocks of at least --min-block bytes.
    Buddy,
    /// A slab allocator with one cache per --classes size over --page pages.
    Slab,
}

/// The validated configuration every allocator is built from.
struct Config {
    base: u64,
    size: u64,
    fit: Fit,
    order: ListOrder,
    coalesce: bool,
    header: u64,
    align: Option<u64>,
    classes: Vec<u64>,
    min_block: u64,
    page: u64,
}

/// One allocator to run: its kind and, for the free list, its fit.
#[derive(Clone, Copy)]
struct Choice {
    kind: Kind,
    fit: Fit,
}

/// A built allocator, kept concrete so the slab's caches can be reported.
enum Heap {
    FreeList(FreeList),
    Segregated(Segregated),
    Buddy(HeapBuddy),
    Slab(Slab),
}

impl Heap {
    fn build(c: &Config, choice: Choice) -> Result<Heap> {
        let usage = |e: vmsim_core::alloc::ConfigError| crate::exit::usage(e.to_string());
        Ok(match choice.kind {
            Kind::Freelist => Heap::FreeList(FreeList::new(
                c.base, c.size, choice.fit, c.order, c.coalesce, c.header, c.align,
            )),
            Kind::Segregated => Heap::Segregated(
                Segregated::new(c.base, c.size, &c.classes, c.header).map_err(usage)?,
            ),
            Kind::Buddy => {
                Heap::Buddy(HeapBuddy::new(c.base, c.size, c.min_block, c.header).map_err(usage)?)
            }
            Kind::Slab => Heap::Slab(Slab::new(c.base, c.size, c.page, &c.classes).map_err(usage)?),
        })
    }

    fn get_mut(&mut self) -> &mut dyn Allocator {
        match self {
            Heap::FreeList(a) => a,
            Heap::Segregated(a) => a,
            Heap::Buddy(a) => a,
            Heap::Slab(a) => a,
        }
    }

    fn caches(&self) -> Option<Vec<CacheStats>> {
        match self {
            Heap::Slab(s) => Some(s.caches()),
            _ => None,
        }
    }
}

/// The label of a choice in tables and JSON.
fn label(choice: Choice) -> String {
    match choice.kind {
        Kind::Freelist => format!("freelist:{}", choice.fit),
        Kind::Segregated => "segregated".into(),
        Kind::Buddy => "buddy".into(),
        Kind::Slab => "slab".into(),
    }
}

/// One line describing the configuration of a choice.
fn describe(c: &Config, choice: Choice) -> String {
    let header = format!("header {}", c.header);
    match choice.kind {
        Kind::Freelist => format!(
            "free list, {} fit, {} order, {}, {header}, align {}",
            choice.fit,
            c.order,
            if c.coalesce {
                "coalescing"
            } else {
                "no coalescing"
            },
            c.align.map_or("none".to_string(), |a| a.to_string())
        ),
        Kind::Segregated => format!("segregated lists, classes {:?}, {header}", c.classes),
        Kind::Buddy => format!("binary buddy, smallest block {}, {header}", c.min_block),
        Kind::Slab => format!("slab, objects {:?}, pages of {}", c.classes, c.page),
    }
}

fn parse_choices(list: &str, fit: Fit) -> Result<Vec<Choice>> {
    list.split(',')
        .map(|item| {
            let item = item.trim();
            let (name, fit_part) = match item.split_once(':') {
                Some((n, f)) => (n, Some(f)),
                None => (item, None),
            };
            let kind = <Kind as clap::ValueEnum>::from_str(name, false).map_err(|_| {
                crate::exit::usage(format!(
                    "--compare: unknown allocator `{name}` (freelist[:FIT], segregated, buddy, slab)"
                ))
            })?;
            let fit = match (kind, fit_part) {
                (_, None) => fit,
                (Kind::Freelist, Some(f)) => f
                    .parse()
                    .map_err(|e| crate::exit::usage(format!("--compare: {e}")))?,
                (_, Some(_)) => {
                    return Err(crate::exit::usage(format!(
                        "--compare: only freelist takes a fit, not `{item}`"
                    )))
                }
            };
            Ok(Choice { kind, fit })
        })
        .collect::<Result<Vec<Choice>>>()
        .and_then(|v| {
            let mut labels: Vec<String> = v.iter().map(|&c| label(c)).collect();
            labels.sort();
            match labels.windows(2).find(|w| w[0] == w[1]) {
                Some(w) => Err(crate::exit::usage(format!(
                    "--compare: `{}` is listed twice",
                    w[0]
                ))),
                None => Ok(v),
            }
        })
}

fn config(a: &Args) -> Result<Config> {
    let usage = |flag: &str, e: String| crate::exit::usage(format!("{flag}: {e}"));
    let bytes = |flag: &str, v: &str| parse_bytes(v).map_err(|e| usage(flag, e));
    let classes = a
        .classes
        .split(',')
        .map(|c| bytes("--classes", c.trim()))
        .collect::<Result<Vec<_>>>()?;
    let align = match &a.align {
        Some(v) => match bytes("--align", v)? {
            0 => return Err(usage("--align", "must be positive".into())),
            n => Some(n),
        },
        None => None,
    };
    let base = vmsim_trace::lines::parse_number(&a.base).map_err(|e| usage("--base", e))?;
    let size = bytes("--size", &a.size)?;
    if base.checked_add(size).is_none() {
        return Err(usage(
            "--size",
            "the heap wraps around the address space".into(),
        ));
    }
    Ok(Config {
        base,
        size,
        fit: a.fit,
        order: a.order,
        coalesce: a.coalesce,
        header: bytes("--header", &a.header)?,
        align,
        classes,
        min_block: bytes("--min-block", &a.min_block)?,
        page: bytes("--page", &a.page)?,
    })
}

/// The operations and a description of where they came from.
fn operations(a: &Args) -> Result<(Vec<Line>, Value)> {
    if let Some(path) = &a.ops_file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let ops = workload::parse(&text).map_err(|e| anyhow::anyhow!("{}:{e}", path.display()))?;
        return Ok((ops, json!({"file": path.display().to_string()})));
    }
    let sizes: SizeDist = a
        .sizes
        .parse()
        .map_err(|e| crate::exit::usage(format!("--sizes: {e}")))?;
    if a.ops > MAX_OPS {
        return Err(crate::exit::usage(format!(
            "--ops: at most {MAX_OPS} operations"
        )));
    }
    if !(0.0..=1.0).contains(&a.alloc_fraction) {
        return Err(crate::exit::usage("--alloc-fraction must be from 0 to 1"));
    }
    let g = Generate {
        ops: a.ops,
        sizes,
        alloc_fraction: a.alloc_fraction,
        lifetime: a.lifetime,
        seed: a.seed,
    };
    Ok((
        g.ops(),
        json!({"generated": {"ops": a.ops, "sizes": a.sizes, "alloc_fraction": a.alloc_fraction,
                             "lifetime": a.lifetime.to_string(), "seed": a.seed}}),
    ))
}

/// Runs `vmsim malloc`.
pub fn run(a: Args) -> Result<()> {
    let cfg = config(&a)?;
    let (ops, source) = operations(&a)?;
    let mut out = std::io::stdout().lock();
    if let Some(list) = &a.compare {
        let choices = parse_choices(list, cfg.fit)?;
        let mut rows = Vec::new();
        for &ch in &choices {
            let mut heap = Heap::build(&cfg, ch)?;
            let summary = workload::replay(heap.get_mut(), &ops, |_, _| {});
            rows.push((ch, summary));
        }
        return if a.json {
            let mut m = serde_json::Map::new();
            for (ch, s) in &rows {
                m.insert(
                    label(*ch),
                    json!({"config": describe(&cfg, *ch), "summary": summary_json(s)}),
                );
            }
            let v = json!({"workload": source, "heap": {"base": cfg.base, "size": cfg.size}, "allocators": m});
            serde_json::to_writer_pretty(&mut out, &v)?;
            writeln!(out)?;
            Ok(())
        } else {
            compare_table(&mut out, &cfg, &ops, &rows)
        };
    }

    let choice = Choice {
        kind: a.allocator,
        fit: cfg.fit,
    };
    let mut heap = Heap::build(&cfg, choice)?;
    let listed = a.ops_file.is_some();
    let mut names: HashMap<u64, String> = HashMap::new();
    let mut steps_json = Vec::new();
    let mut text = String::new();
    if !a.json {
        text.push_str(&format!(
            "{}: {} bytes at {:#x}; {} operations\n",
            describe(&cfg, choice),
            cfg.size,
            cfg.base,
            ops.len()
        ));
    }
    let summary = workload::replay(heap.get_mut(), &ops, |alloc, st| {
        if let (Outcome::Alloc(o), workload::Op::Alloc { name, .. }) = (&st.outcome, &st.line.op) {
            if let Some(b) = o.block() {
                names.insert(b.ptr(), name.clone().unwrap_or_else(|| "-".into()));
            }
        }
        if a.json {
            steps_json.push(step_json(st));
        } else {
            if listed || a.explain {
                text.push_str(&step_line(st));
                text.push('\n');
            }
            if a.explain {
                text.push_str(&heap_map(alloc, &names));
                text.push_str(&free_list_line(alloc));
            }
        }
    });
    let caches = heap.caches();
    if a.json {
        let mut v = json!({
            "allocator": label(choice), "config": describe(&cfg, choice),
            "heap": {"base": cfg.base, "size": cfg.size}, "workload": source,
            "steps": steps_json, "summary": summary_json(&summary),
        });
        if let Some(c) = caches {
            v["caches"] = serde_json::to_value(c)?;
        }
        serde_json::to_writer_pretty(&mut out, &v)?;
        writeln!(out)?;
        return Ok(());
    }
    out.write_all(text.as_bytes())?;
    summary_text(&mut out, &summary)?;
    if let Some(c) = caches {
        cache_table(&mut out, &c)?;
    }
    Ok(())
}

fn block_text(b: &LiveBlock) -> String {
    format!(
        "{:#x} (block {:#x}+{}, {} waste)",
        b.ptr(),
        b.start,
        b.size,
        b.waste()
    )
}

fn step_line(st: &Step) -> String {
    let what = match st.outcome {
        Outcome::Alloc(AllocOutcome::Placed { block, searched }) => {
            format!("-> {}, {searched} searched", block_text(&block))
        }
        Outcome::Alloc(AllocOutcome::Failed { reason, searched }) => format!(
            "-> failed: {}, {searched} searched",
            match reason {
                AllocFailure::NoFit => "nothing large enough",
                AllocFailure::SamePointer => "a live block already has this pointer",
            }
        ),
        Outcome::Free { result: Ok(f), .. } => format!(
            "-> freed {:#x}+{}{}",
            f.block.start,
            f.block.size,
            match f.merges {
                0 => String::new(),
                1 => ", 1 merge".into(),
                n => format!(", {n} merges"),
            }
        ),
        Outcome::Free { result: Err(e), .. } => format!("-> refused: {e}"),
        Outcome::FreeNull => "-> free(NULL): nothing to do".into(),
    };
    format!("{:>5}  {:<20} {what}", st.line.line, st.line.op.to_string())
}

/// The heap by address: live blocks with their names, free blocks, metadata.
fn heap_map(a: &dyn Allocator, names: &HashMap<u64, String>) -> String {
    let mut regions: Vec<(u64, String)> = Vec::new();
    for b in a.live() {
        let name = names.get(&b.ptr()).map_or("?", String::as_str);
        regions.push((
            b.start,
            format!("{:#x} {name}:{}/{}", b.start, b.requested, b.size),
        ));
    }
    for s in a.free_blocks() {
        regions.push((s.start, format!("{:#x} free:{}", s.start, s.size)));
    }
    for s in a.metadata() {
        regions.push((s.start, format!("{:#x} meta:{}", s.start, s.size)));
    }
    regions.sort_by_key(|r| r.0);
    let body: Vec<String> = regions.into_iter().map(|r| format!("[{}]", r.1)).collect();
    format!("       heap  {}\n", body.join(" "))
}

fn free_list_line(a: &dyn Allocator) -> String {
    let list: Vec<String> = a
        .free_blocks()
        .iter()
        .map(|s| format!("{:#x}+{}", s.start, s.size))
        .collect();
    format!("       free list ({}): {}\n", list.len(), list.join(" "))
}

fn summary_text(out: &mut impl Write, s: &Summary) -> Result<()> {
    let last = s.last.unwrap_or_else(empty_snapshot);
    writeln!(out, "allocations     {} ({} failed)", s.allocs, s.failures)?;
    writeln!(out, "frees           {} ({} refused)", s.frees, s.bad_frees)?;
    writeln!(
        out,
        "search steps    {:.2} per allocation (max {})",
        s.steps_per_alloc(),
        s.max_search
    )?;
    writeln!(
        out,
        "external frag   {:.3} at the end (peak {:.3}, mean {:.3})",
        last.external_fragmentation, s.peak_external_fragmentation, s.mean_external_fragmentation
    )?;
    writeln!(
        out,
        "internal waste  {} bytes at the end ({:.1}% of live bytes; peak {})",
        last.internal_waste,
        100.0 * last.internal_fragmentation(),
        s.peak_internal_waste
    )?;
    writeln!(
        out,
        "free list       length {}, {} bytes free, largest block {}",
        last.free_blocks, last.free_bytes, last.largest_free
    )?;
    writeln!(
        out,
        "live blocks     {}, {} bytes asked for, {} bytes used; metadata {}",
        last.live_blocks, last.requested_bytes, last.live_bytes, last.metadata_bytes
    )?;
    Ok(())
}

fn empty_snapshot() -> Snapshot {
    Snapshot {
        live_blocks: 0,
        live_bytes: 0,
        requested_bytes: 0,
        internal_waste: 0,
        free_blocks: 0,
        free_bytes: 0,
        largest_free: 0,
        external_fragmentation: 0.0,
        metadata_bytes: 0,
    }
}

fn cache_table(out: &mut impl Write, caches: &[CacheStats]) -> Result<()> {
    writeln!(
        out,
        "{:>7} {:>7} {:>6} {:>6} {:>8} {:>5} {:>5} {:>6} {:>7} {:>7}",
        "object", "slab", "objs", "slabs", "partial", "full", "empty", "live", "reused", "util"
    )?;
    for c in caches {
        writeln!(
            out,
            "{:>7} {:>7} {:>6} {:>6} {:>8} {:>5} {:>5} {:>6} {:>7} {:>6.1}%",
            c.object_size,
            c.slab_bytes,
            c.objects_per_slab,
            c.slabs,
            c.partial,
            c.full,
            c.empty,
            c.live_objects,
            c.reused,
            100.0 * c.utilisation
        )?;
    }
    Ok(())
}

fn compare_table(
    out: &mut impl Write,
    cfg: &Config,
    ops: &[Line],
    rows: &[(Choice, Summary)],
) -> Result<()> {
    writeln!(
        out,
        "{} operations on {} bytes at {:#x}",
        ops.len(),
        cfg.size,
        cfg.base
    )?;
    writeln!(
        out,
        "{:<16} {:>7} {:>7} {:>11} {:>6} {:>9} {:>9} {:>10} {:>10}",
        "allocator",
        "allocs",
        "failed",
        "steps/alloc",
        "max",
        "ext frag",
        "mean ext",
        "int waste",
        "free blks"
    )?;
    for (ch, s) in rows {
        let last = s.last.unwrap_or_else(empty_snapshot);
        writeln!(
            out,
            "{:<16} {:>7} {:>7} {:>11.2} {:>6} {:>9.3} {:>9.3} {:>10} {:>10}",
            label(*ch),
            s.allocs,
            s.failures,
            s.steps_per_alloc(),
            s.max_search,
            last.external_fragmentation,
            s.mean_external_fragmentation,
            last.internal_waste,
            last.free_blocks
        )?;
    }
    Ok(())
}

fn summary_json(s: &Summary) -> Value {
    let last = s.last.unwrap_or_else(empty_snapshot);
    json!({
        "ops": s.ops, "allocs": s.allocs, "failures": s.failures, "frees": s.frees,
        "bad_frees": s.bad_frees, "search_steps": s.search_steps,
        "steps_per_alloc": s.steps_per_alloc(), "max_search": s.max_search, "merges": s.merges,
        "peak_requested": s.peak_requested, "peak_internal_waste": s.peak_internal_waste,
        "external_fragmentation": last.external_fragmentation,
        "peak_external_fragmentation": s.peak_external_fragmentation,
        "mean_external_fragmentation": s.mean_external_fragmentation,
        "internal_waste": last.internal_waste,
        "internal_fragmentation": last.internal_fragmentation(),
        "free_list_length": last.free_blocks, "free_bytes": last.free_bytes,
        "largest_free": last.largest_free, "live_blocks": last.live_blocks,
        "requested_bytes": last.requested_bytes, "live_bytes": last.live_bytes,
        "metadata_bytes": last.metadata_bytes,
    })
}

fn step_json(st: &Step) -> Value {
    let result = match st.outcome {
        Outcome::Alloc(AllocOutcome::Placed { block, searched }) => json!({
            "placed": true, "ptr": block.ptr(), "block": block, "searched": searched,
        }),
        Outcome::Alloc(AllocOutcome::Failed { reason, searched }) => json!({
            "placed": false, "reason": reason, "searched": searched,
        }),
        Outcome::Free { ptr, result: Ok(f) } => json!({
            "ptr": ptr, "freed": true, "block": f.block, "merges": f.merges,
        }),
        Outcome::Free {
            ptr,
            result: Err(e),
        } => json!({
            "ptr": ptr, "freed": false, "error": e, "message": e.to_string(),
        }),
        Outcome::FreeNull => json!({"ptr": null, "freed": false}),
    };
    json!({
        "line": st.line.line, "op": st.line.op.to_string(), "result": result,
        "after": st.snapshot,
    })
}
