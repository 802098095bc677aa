//! Turns the event stream of one access into the step-by-step story a student follows:
//! the split of the address, each TLB set probed, each page-walk cache, each entry read with its
//! bits, the fault and what the kernel did, and the physical address.

use std::fmt::Write;
use vmsim_core::event::{Event, Fault, Resolution, TlbLevel};
use vmsim_core::radix::{Geometry, WalkFault};
use vmsim_core::{Level, VirtAddr};

fn tlb_name(t: TlbLevel) -> &'static str {
    match t {
        TlbLevel::L1i => "L1 instruction TLB",
        TlbLevel::L1d => "L1 data TLB",
        TlbLevel::L2 => "L2 TLB",
    }
}

/// How `va` splits into table indices and offset under `geom`.
pub fn split(geom: &Geometry, va: VirtAddr) -> String {
    let mut parts = Vec::new();
    let mut level = Some(geom.top());
    while let Some(l) = level {
        let name = if geom.is_x86() {
            l.table_name().to_string()
        } else {
            format!("L{}", l.number())
        };
        parts.push(format!("{name} index {}", geom.index(va, l).get()));
        level = l.next_lower();
    }
    let page = geom.page_size();
    parts.push(format!("offset {:#x}", va.page_offset(page)));
    parts.join(", ")
}

fn entry_name(geom: &Geometry, l: Level) -> String {
    if geom.is_x86() {
        l.entry_name().to_string()
    } else {
        format!("L{} entry", l.number())
    }
}

/// Renders the events of one access (as recorded) into indented lines.
pub fn render(geom: &Geometry, events: &[Event], out: &mut String) {
    let mut probes: Vec<String> = Vec::new();
    for e in events {
        match *e {
            Event::Access { cpu, pid, va, kind } => {
                let _ = writeln!(out, "{kind} of {va} by process {pid} on CPU {cpu}");
                let _ = writeln!(out, "  address split: {}", split(geom, va));
            }
            Event::TlbProbe {
                array,
                size,
                set,
                hit,
                ..
            } => probes.push(format!(
                "array {array} set {set} for a {size} page: {}",
                if hit { "hit" } else { "miss" }
            )),
            Event::TlbLookup { tlb, hit } => {
                let _ = writeln!(
                    out,
                    "  {}: {} ({})",
                    tlb_name(tlb),
                    if hit { "HIT" } else { "miss" },
                    probes.join("; ")
                );
                probes.clear();
            }
            Event::PwcProbe { level, hit } => {
                let _ = writeln!(
                    out,
                    "  {} cache: {}",
                    level.entry_name(),
                    if hit {
                        format!(
                            "HIT, the walk skips to the {}",
                            level.next_lower().map_or("page", |l| l.table_name())
                        )
                    } else {
                        "miss".to_string()
                    }
                );
            }
            Event::WalkStart { level, table } => {
                let _ = writeln!(
                    out,
                    "  page walk from the {} at frame {:#x}",
                    if geom.is_x86() {
                        level.table_name().to_string()
                    } else {
                        format!("level-{} table", level.number())
                    },
                    table.0
                );
            }
            Event::WalkRead(s) => {
                let _ = write!(
                    out,
                    "    read {}[{}] at physical {:#x} = {:#018x} ({})",
                    entry_name(geom, s.level),
                    s.index.get(),
                    s.entry_addr.as_u64(),
                    s.pte.raw(),
                    s.pte.describe(s.level)
                );
                if s.pte.present() {
                    if s.pte.is_leaf(s.level) && (geom.is_x86() || s.level == Level::Pt) {
                        let size = geom.leaf_size(s.level);
                        let _ = writeln!(out, " -> maps a {size} page");
                    } else if let Some(l) = s.level.next_lower() {
                        let _ = writeln!(
                            out,
                            " -> next table ({}) at frame {:#x}",
                            if geom.is_x86() {
                                l.table_name().to_string()
                            } else {
                                format!("level {}", l.number())
                            },
                            s.pte.frame().0
                        );
                    } else {
                        let _ = writeln!(out);
                    }
                } else {
                    let _ = writeln!(out);
                }
            }
            Event::DirtyAssist => {
                let _ = writeln!(
                    out,
                    "  write through a TLB entry whose D bit is clear: the processor walks again to set D"
                );
            }
            Event::Fault(f) => {
                let what = match f {
                    Fault::NonCanonical => format!(
                        "the address is not canonical for {}-bit addresses (#GP)",
                        geom.va_bits()
                    ),
                    Fault::Walk(WalkFault::NotPresent { level }) => {
                        format!("PAGE FAULT: {} not present", entry_name(geom, level))
                    }
                    Fault::Walk(w) => format!("PAGE FAULT: {w}"),
                    Fault::Protection { cause, .. } => format!("PAGE FAULT (protection): {cause}"),
                };
                let _ = writeln!(out, "  {what}");
            }
            Event::Resolved(r) => {
                let _ = match r {
                    Resolution::DemandZero { va, pfn, size } => writeln!(
                        out,
                        "  kernel: first touch of anonymous memory: zero-filled {size} page {va} \
                         mapped to frame {:#x} (minor fault); the access is retried",
                        pfn.0
                    ),
                    Resolution::PageCache { va, pfn } => writeln!(
                        out,
                        "  kernel: file page {va} found in the page cache at frame {:#x} and \
                         mapped (minor fault); the access is retried",
                        pfn.0
                    ),
                    Resolution::FileRead { va, pfn } => writeln!(
                        out,
                        "  kernel: file page {va} read from disk into frame {:#x}, with \
                         readahead (major fault); the access is retried",
                        pfn.0
                    ),
                    Resolution::SwapCache { va, pfn } => writeln!(
                        out,
                        "  kernel: swapped-out page {va} still in the swap cache at frame \
                         {:#x}: mapped again (minor fault); the access is retried",
                        pfn.0
                    ),
                    Resolution::SwapIn { va, pfn } => writeln!(
                        out,
                        "  kernel: page {va} read back from swap into frame {:#x}, with \
                         swap readahead (major fault); the access is retried",
                        pfn.0
                    ),
                    Resolution::CowCopy { va, from, to } => writeln!(
                        out,
                        "  kernel: write to copy-on-write page {va}: frame {:#x} is shared, \
                         so it is copied to frame {:#x} and mapped writable; the access is retried",
                        from.0, to.0
                    ),
                    Resolution::CowReuse { va, pfn } => writeln!(
                        out,
                        "  kernel: write to copy-on-write page {va}: no one else maps frame \
                         {:#x} any more, so it is made writable in place; the access is retried",
                        pfn.0
                    ),
                    Resolution::Segv => writeln!(
                        out,
                        "  kernel: no valid mapping can be made: the process gets SIGSEGV"
                    ),
                    Resolution::OomKilled => writeln!(
                        out,
                        "  kernel: out of memory with nothing left to reclaim: the OOM killer \
                         killed this process"
                    ),
                };
            }
            Event::TlbFill { tlb, size, evicted } => {
                let _ = writeln!(
                    out,
                    "  fill {} with the {size} translation{}",
                    tlb_name(tlb),
                    if evicted {
                        " (evicting another entry)"
                    } else {
                        ""
                    }
                );
            }
            Event::Done { pa, size, cycles } => {
                let _ = writeln!(
                    out,
                    "  => physical address {pa} ({} page, {cycles} cycles to translate)",
                    size
                );
            }
        }
    }
}
