//! `vmsim pagetable`: the memory and the references per translation of each page-table
//! organisation (linear, radix, inverted, hashed, clustered hashed) for one address space: a
//! trace's touched pages or a list of virtual memory areas.
use anyhow::Result;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use vmsim_analysis::pagetable::{compare, Layout};
use vmsim_core::translate::hashed::MAX_CLUSTER;
use vmsim_core::units::parse_bytes;
use vmsim_core::PageSize;
use vmsim_trace::Format;

/// Arguments of `vmsim pagetable`.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  vmsim pagetable                                  # the built-in trace's pages, x86-64\n  \
    vmsim pagetable --vmas 0x400000+2M,0x2000000+8M,0x7f0000000000+16M,0x7ffffff00000+1M\n  \
    vmsim pagetable prog.vmt --va-bits 57 --json\n  \
    vmsim pagetable --vmas 0x0+64K,0xffff0000+64K --va-bits 32 --levels 10,10 --pte-bytes 4"
)]
pub struct Args {
    /// Trace whose touched pages form the address space (the built-in trace when neither a
    /// trace nor --vmas is given).
    pub trace: Option<PathBuf>,
    /// Input format (detected when omitted).
    #[arg(long, value_name = "FORMAT", value_parser = crate::cmd::run::format_parser())]
    pub format: Option<Format>,
    #[command(flatten)]
    pub read: crate::trace_args::TraceOptions,
    /// Areas to map instead of a trace: START-END or START+SIZE, comma separated (every page
    /// of each area is in use; at most 2^22 pages in all).
    #[arg(long, value_name = "LIST", conflicts_with = "trace")]
    pub vmas: Option<String>,
    /// Virtual address bits.
    #[arg(long, default_value_t = 48)]
    pub va_bits: u8,
    /// Page size.
    #[arg(long, default_value = "4K")]
    pub page_size: PageSize,
    /// Index bits per radix level, root first (default: as many levels as tables that fill a
    /// page need, the root taking the remainder).
    #[arg(long, value_name = "LIST")]
    pub levels: Option<String>,
    /// Bytes per linear and radix entry.
    #[arg(long, default_value_t = 8)]
    pub pte_bytes: u64,
    /// Physical memory for the inverted table (default: the smallest power of two holding
    /// twice the pages in use).
    #[arg(long, value_name = "SIZE")]
    pub ram: Option<String>,
    /// Pages per node of the clustered hashed table (a power of two, at most 4096).
    #[arg(long, default_value_t = 16)]
    pub cluster: u64,
    /// Print JSON: one object per organisation under its name.
    #[arg(long)]
    pub json: bool,
}

/// The most pages `--vmas` may map (16 GiB of 4 KiB pages).
const MAX_PAGES: u128 = 1 << 22;

/// Sorts inclusive page ranges and merges those that overlap or touch.
fn merge(mut areas: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    areas.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::with_capacity(areas.len());
    for (f, l) in areas {
        match out.last_mut() {
            Some(last) if f <= last.1.saturating_add(1) => last.1 = last.1.max(l),
            _ => out.push((f, l)),
        }
    }
    out
}

/// Parses `START-END` or `START+SIZE` (addresses in hex or decimal, sizes with K/M/G/T).
fn parse_vma(s: &str) -> Result<(u64, u64), String> {
    let num = |t: &str| vmsim_trace::lines::parse_number(t.trim());
    let (start, end) = if let Some((a, b)) = s.split_once('+') {
        let start = num(a)?;
        let size = parse_bytes(b)?;
        (start, start.checked_add(size).ok_or("area wraps around")?)
    } else if let Some((a, b)) = s.split_once('-') {
        (num(a)?, num(b)?)
    } else {
        return Err(format!("`{s}` is not START-END or START+SIZE"));
    };
    if end <= start {
        return Err(format!("`{s}` is empty"));
    }
    Ok((start, end))
}

/// Splits the page-number bits into levels of tables that fill one page each.
fn default_levels(va_bits: u8, page: PageSize, pte_bytes: u64) -> Vec<u8> {
    let per = (page.shift() - pte_bytes.max(1).ilog2()).max(1);
    let mut left = u32::from(va_bits).saturating_sub(page.shift());
    let mut v = Vec::new();
    while left > 0 {
        let b = left.min(per);
        v.push(b as u8);
        left -= b;
    }
    v.reverse();
    v
}

/// Runs `vmsim pagetable`.
pub fn run(a: Args) -> Result<()> {
    let usage = |m: String| crate::exit::usage(m);
    if a.va_bits == 0 || a.va_bits > 64 {
        return Err(usage("--va-bits must be from 1 to 64".into()));
    }
    if !a.pte_bytes.is_power_of_two() {
        return Err(usage("--pte-bytes must be a power of two".into()));
    }
    let levels = match &a.levels {
        Some(l) => l
            .split(',')
            .map(|b| b.trim().parse::<u8>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| usage(format!("--levels: `{l}` is not a list of bit counts")))?,
        None => default_levels(a.va_bits, a.page_size, a.pte_bytes),
    };
    let layout = Layout {
        va_bits: a.va_bits,
        page_size: a.page_size,
        levels,
        pte_bytes: a.pte_bytes,
    };
    let shift = a.page_size.shift();
    if !a.cluster.is_power_of_two() || a.cluster > MAX_CLUSTER {
        return Err(usage(format!(
            "--cluster: a power of two from 1 to {MAX_CLUSTER} pages"
        )));
    }

    // (vpn, references), each page once.
    let (name, pages): (String, Vec<(u64, u64)>) = match &a.vmas {
        Some(list) => {
            let mut areas = Vec::new();
            for part in list.split(',') {
                let (start, end) =
                    parse_vma(part.trim()).map_err(|e| usage(format!("--vmas: {e}")))?;
                areas.push((start >> shift, (end - 1) >> shift));
            }
            // Counted from the merged areas before a page is listed: the tables are built for
            // real, about 100 bytes per page.
            let areas = merge(areas);
            let total: u128 = areas.iter().map(|&(f, l)| u128::from(l - f) + 1).sum();
            if total > MAX_PAGES {
                return Err(usage(format!(
                    "--vmas: the areas hold {total} pages; at most {MAX_PAGES}"
                )));
            }
            let pages = areas.iter().flat_map(|&(f, l)| (f..=l).map(|v| (v, 1u64)));
            ("--vmas".into(), pages.collect())
        }
        None => {
            // Streamed: only the count per page is kept, never the references.
            let (mut reader, name) =
                crate::cmd::run::open_trace(&a.trace, a.format, &a.read.options())?;
            let mut counts: BTreeMap<u64, u64> = BTreeMap::new();
            let mut buf = Vec::with_capacity(1 << 14);
            while reader.read_pages(a.page_size, &mut buf)? > 0 {
                for &(p, _) in &buf {
                    *counts.entry(p).or_insert(0) += 1;
                }
            }
            if counts.is_empty() {
                anyhow::bail!("{name}: the trace holds no accesses");
            }
            (name, counts.into_iter().collect())
        }
    };
    let frames = match &a.ram {
        Some(r) => {
            let bytes = parse_bytes(r).map_err(|e| usage(format!("--ram: {e}")))?;
            u32::try_from(bytes >> shift)
                .map_err(|_| usage("--ram: more than 2^32 frames".into()))?
        }
        None => u32::try_from((2 * pages.len()).next_power_of_two())
            .map_err(|_| usage("more than 2^31 pages in use".into()))?,
    };
    let orgs =
        compare(&pages, &layout, frames, a.cluster).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;

    let mut out = std::io::stdout().lock();
    if a.json {
        let mut v = serde_json::Map::new();
        v.insert(
            "space".into(),
            serde_json::json!({
                "source": name, "pages": pages.len(), "va_bits": a.va_bits,
                "page_size": a.page_size.bytes(), "levels": layout.levels,
                "pte_bytes": a.pte_bytes, "frames": frames, "cluster": a.cluster,
            }),
        );
        for o in &orgs {
            v.insert(
                o.name.into(),
                serde_json::json!({
                    "bytes": o.bytes, "refs_per_translation": o.refs_per_translation,
                    "detail": o.detail,
                }),
            );
        }
        serde_json::to_writer_pretty(&mut out, &v)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(
        out,
        "{name}: {} pages of {} in a {}-bit space; radix levels {:?}; {} frames for the inverted table",
        pages.len(),
        a.page_size.name(),
        a.va_bits,
        layout.levels,
        frames
    )?;
    writeln!(
        out,
        "{:<10} {:>14} {:>10}  made of",
        "table", "memory", "refs/xlat"
    )?;
    for o in &orgs {
        writeln!(
            out,
            "{:<10} {:>14} {:>10.2}  {}",
            o.name,
            human(o.bytes),
            o.refs_per_translation,
            o.detail
        )?;
    }
    Ok(())
}

/// Bytes with a binary unit and three significant digits.
pub(crate) fn human(b: u128) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB"];
    let mut v = b as f64;
    let mut i = 0;
    while v >= 1024.0 && i + 1 < units.len() {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", units[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn areas_and_levels() {
        assert_eq!(parse_vma("0x1000+4K"), Ok((0x1000, 0x2000)));
        assert_eq!(parse_vma("4096-8192"), Ok((4096, 8192)));
        assert!(parse_vma("0x2000-0x1000").is_err());
        assert!(parse_vma("0x2000").is_err());
        assert_eq!(default_levels(48, PageSize::SIZE_4K, 8), [9, 9, 9, 9]);
        assert_eq!(default_levels(57, PageSize::SIZE_4K, 8), [9, 9, 9, 9, 9]);
        assert_eq!(default_levels(32, PageSize::SIZE_4K, 4), [10, 10]);
        assert_eq!(default_levels(39, PageSize::SIZE_4K, 8), [9, 9, 9]);
        assert_eq!(default_levels(15, "32B".parse().unwrap(), 1), [5, 5]);
        assert_eq!(human(512 << 30), "512.0 GiB");
        assert_eq!(
            merge(vec![(10, 20), (0, 3), (4, 5), (15, 30), (40, 40)]),
            [(0, 5), (10, 30), (40, 40)]
        );
        assert_eq!(merge(vec![(0, u64::MAX), (5, 6)]), [(0, u64::MAX)]);
    }
}
