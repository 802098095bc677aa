//! Turns the event stream of one access into the step-by-step story a student follows:
//! the split of the address, each TLB set probed, each page-walk cache, each entry read with its
//! bits, the fault and what the kernel did (with its reclaim, evictions, shootdowns and OOM
//! kills on the way), and the physical address.

use std::fmt::Write;
use vmsim_core::event::{Event, Fault, Resolution, TlbLevel};
use vmsim_core::radix::{Geometry, WalkFault, WalkStep};
use vmsim_core::{AccessKind, Level, PteFlags, VirtAddr};

fn tlb_name(t: TlbLevel) -> &'static str {
    match t {
        TlbLevel::L1i => "L1 instruction TLB",
        TlbLevel::L1d => "L1 data TLB",
        TlbLevel::L2 => "L2 TLB",
    }
}

/// A level's table as a reader of `geom` knows it: x86-64's names (PML4, PD...), or `L1`..`Ln`
/// on a teaching machine.
pub fn table_name(geom: &Geometry, l: Level) -> String {
    if geom.is_x86() {
        l.table_name().to_string()
    } else {
        format!("L{}", l.number())
    }
}

/// How `va` splits into table indices and offset under `geom`.
pub fn split(geom: &Geometry, va: VirtAddr) -> String {
    let mut parts = Vec::new();
    let mut level = Some(geom.top());
    while let Some(l) = level {
        let name = table_name(geom, l);
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
    let mut kind = AccessKind::Read;
    // The leaf entry the last walk read: the processor sets its A (and D on a write) bit once
    // the access is allowed, before it fills the TLBs.
    let mut leaf: Option<WalkStep> = None;
    // The reads of a two-dimensional walk, drawn as a grid when it ends.
    let mut nested = Vec::new();
    for e in events {
        match *e {
            Event::Access {
                cpu,
                pid,
                va,
                kind: k,
            } => {
                kind = k;
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
                if !nested.is_empty() {
                    // The last attempt neither faulted nor filled: the VM exited under it.
                    crate::narrate_2d::grid(&nested, out);
                    nested.clear();
                    let _ = writeln!(
                        out,
                        "  VM exit: the hypervisor resolved it (an EPT violation: the host \
                         backed the page); the access is re-executed and walks again"
                    );
                }
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
                        leaf = Some(s);
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
                        if !s.pte.has(PteFlags::ACCESSED) {
                            let _ = writeln!(
                                out,
                                "      the walk sets A (accessed) in this entry: now {:#018x}",
                                s.pte.with(PteFlags::ACCESSED).raw()
                            );
                        }
                    } else {
                        let _ = writeln!(out);
                    }
                } else {
                    let _ = writeln!(out);
                }
            }
            Event::NestedWalkRead(r) => {
                let _ = writeln!(out, "{}", crate::narrate_2d::line(&r));
                nested.push(r);
            }
            Event::DirtyAssist => {
                let _ = writeln!(
                    out,
                    "  write through a TLB entry whose D bit is clear: the processor walks again to set D"
                );
            }
            Event::Fault(f) => {
                leaf = None;
                if !nested.is_empty() {
                    crate::narrate_2d::grid(&nested, out);
                    nested.clear();
                }
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
                    Resolution::ZeroPage { va, pfn, size } => writeln!(
                        out,
                        "  kernel: read of untouched anonymous memory: the shared {size} zero \
                         page (frame {:#x}) mapped read-only at {va}, nothing allocated (minor \
                         fault); the access is retried",
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
            Event::Reclaim {
                direct,
                free,
                target,
            } => {
                let _ = writeln!(
                    out,
                    "  kernel: {free} free frames is below the low watermark: {} reclaims up \
                     to {target}",
                    if direct { "direct reclaim" } else { "kswapd" }
                );
            }
            Event::Evict { pfn } => {
                let _ = writeln!(
                    out,
                    "  kernel: reclaim evicts frame {:#x}, unmapped from every page table that \
                     mapped it",
                    pfn.0
                );
            }
            Event::SwapOut { pfn, slot } => {
                let _ = writeln!(
                    out,
                    "  kernel: frame {:#x} is written to swap slot {slot}",
                    pfn.0
                );
            }
            Event::Shootdown { pid, cpus } => {
                let _ = writeln!(
                    out,
                    "  kernel: TLB shootdown: process {pid}'s stale translations invalidated on \
                     {cpus} CPU{} not running it",
                    if cpus == 1 { "" } else { "s" }
                );
            }
            Event::OomKill { pid } => {
                let _ = writeln!(
                    out,
                    "  kernel: out of memory: the OOM killer kills process {pid}"
                );
            }
            Event::TlbFill { tlb, size, evicted } => {
                set_leaf_flags(geom, leaf.take(), kind, out);
                if !nested.is_empty() {
                    crate::narrate_2d::grid(&nested, out);
                    nested.clear();
                }
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
                set_leaf_flags(geom, leaf.take(), kind, out);
                let _ = writeln!(
                    out,
                    "  => physical address {pa} ({} page, {cycles} cycles to translate)",
                    size
                );
            }
        }
    }
}

/// Tells how the processor marks the leaf `step` of an allowed access: A always, D on a write
/// (SDM 4.8); nothing when the entry already has them.
fn set_leaf_flags(geom: &Geometry, step: Option<WalkStep>, kind: AccessKind, out: &mut String) {
    let Some(s) = step else { return };
    let mut set = PteFlags::ACCESSED;
    if kind == AccessKind::Write {
        set |= PteFlags::DIRTY;
    }
    let a = !s.pte.has(PteFlags::ACCESSED);
    let d = set.contains(PteFlags::DIRTY) && !s.pte.has(PteFlags::DIRTY);
    let what = match (a, d) {
        (false, false) => return,
        (true, false) => "A (accessed)",
        (false, true) => "D (dirty)",
        (true, true) => "A (accessed) and D (dirty)",
    };
    let _ = writeln!(
        out,
        "  the processor sets {what} in {}[{}]: now {:#018x}",
        entry_name(geom, s.level),
        s.index.get(),
        s.pte.with(set).raw()
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use vmsim_core::config::MachineConfig;
    use vmsim_core::event::Recorder;
    use vmsim_core::machine::Machine;

    /// Every "now 0x…" the narration prints is the entry as memory holds it after the access.
    fn check(kind: AccessKind, va: u64, m: &mut Machine) -> String {
        let geom = *m.geometry();
        let mut rec = Recorder::default();
        m.access(0, 1, VirtAddr::new_unchecked(va), kind, 8, &mut rec)
            .unwrap();
        let mut text = String::new();
        render(&geom, &rec.events, &mut text);
        let reads: Vec<WalkStep> = rec
            .events
            .iter()
            .filter_map(|e| match e {
                Event::WalkRead(s) => Some(*s),
                _ => None,
            })
            .collect();
        for line in text.lines().filter(|l| l.contains("now 0x")) {
            let now = u64::from_str_radix(line.rsplit("now 0x").next().unwrap(), 16).unwrap();
            let held = reads
                .iter()
                .rev()
                .map(|s| m.mem().read(s.table, s.index).raw())
                .find(|&raw| raw == now);
            assert!(held.is_some(), "{line}: no entry holds {now:#x}\n{text}");
        }
        text
    }

    #[test]
    fn the_narration_says_which_a_and_d_bits_a_walk_sets() {
        let cfg = MachineConfig::preset("zen4").unwrap();
        let mut m = Machine::from_config(&cfg).unwrap();
        let first = check(AccessKind::Read, 0x40_1000, &mut m);
        assert_eq!(
            first.matches("the walk sets A (accessed)").count(),
            3,
            "{first}"
        );
        assert!(
            first.contains("the processor sets A (accessed) in PTE[1]"),
            "{first}"
        );
        assert!(!first.contains("D (dirty)"), "a read sets no D: {first}");
        // A write to the same page hits the TLB entry with D clear: a dirty assist walks again,
        // finds A set everywhere, and sets D in the leaf.
        let write = check(AccessKind::Write, 0x40_1008, &mut m);
        assert!(write.contains("walks again to set D"), "{write}");
        assert!(!write.contains("the walk sets A"), "{write}");
        assert!(
            write.contains("the processor sets D (dirty) in PTE[1]"),
            "{write}"
        );
        // A first touch by a write sets both in the leaf.
        let fresh = check(AccessKind::Write, 0x7f00_0000_0000, &mut m);
        assert!(
            fresh.contains("sets A (accessed) and D (dirty) in PTE["),
            "{fresh}"
        );
        // Nothing left to set.
        let again = check(AccessKind::Write, 0x40_1010, &mut m);
        assert!(!again.contains("sets"), "{again}");
    }

    #[test]
    fn each_kernel_event_is_one_line() {
        use vmsim_core::Pfn;
        let geom = *Machine::from_config(&MachineConfig::preset("zen4").unwrap())
            .unwrap()
            .geometry();
        let events = [
            Event::Reclaim {
                direct: true,
                free: 3,
                target: 13,
            },
            Event::Evict { pfn: Pfn(0x42) },
            Event::SwapOut {
                pfn: Pfn(0x42),
                slot: 7,
            },
            Event::Shootdown { pid: 2, cpus: 1 },
            Event::OomKill { pid: 2 },
        ];
        let mut text = String::new();
        render(&geom, &events, &mut text);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5, "{text}");
        assert!(lines[0].contains("3 free frames") && lines[0].contains("direct reclaim"));
        assert!(lines[1].contains("evicts frame 0x42"));
        assert!(lines[2].contains("swap slot 7"));
        assert!(lines[3].contains("process 2's") && lines[3].contains("1 CPU not"));
        assert!(lines[4].contains("kills process 2"));
    }
}
