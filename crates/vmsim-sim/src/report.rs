//! The report of a run, typed: every figure `vmsim run` prints, under the stable JSON names the
//! README documents, and the text summary rendered from the same struct (so the two agree, and a
//! misspelt field is a compile error rather than a silent 0).
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::{self, Write};
use vmsim_core::config::MachineConfig;
use vmsim_core::event::{Event, TlbLevel};
use vmsim_core::kernel::stats::ProcMemory;
use vmsim_core::kernel::Kernel;
use vmsim_core::machine::{Machine, OomKill, THRASHING_RATE, WINDOW};
use vmsim_core::mmu::{CpuStats, TlbStats};
use vmsim_core::units::ratio;
use vmsim_core::{Level, PageSize, VirtAddr};

/// Names of the page-size columns of [`TlbStats`], in its index order.
const SIZE_KEYS: [&str; 4] = ["4K", "2M", "1G", "other"];

/// Hits and misses of one page size in one TLB.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HitsMisses {
    /// Hits.
    pub hits: u64,
    /// Misses.
    pub misses: u64,
}

/// One TLB level's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TlbReport {
    /// Hits of every page size.
    pub hits: u64,
    /// Misses of every page size.
    pub misses: u64,
    /// hits / (hits + misses), 0 when the TLB saw nothing.
    pub hit_ratio: f64,
    /// Per page size (`4K`, `2M`, `1G`, `other` for misses that faulted before a size was
    /// known), only the sizes that were seen.
    pub by_size: BTreeMap<&'static str, HitsMisses>,
}

impl TlbReport {
    fn new(st: &TlbStats) -> TlbReport {
        let (hits, misses) = (st.total_hits(), st.total_misses());
        let by_size = SIZE_KEYS
            .iter()
            .enumerate()
            .filter(|&(i, _)| st.hits[i] + st.misses[i] > 0)
            .map(|(i, &k)| {
                let hm = HitsMisses {
                    hits: st.hits[i],
                    misses: st.misses[i],
                };
                (k, hm)
            })
            .collect();
        TlbReport {
            hits,
            misses,
            hit_ratio: ratio(hits, hits + misses),
            by_size,
        }
    }
}

/// A count per page-table level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LevelCounts {
    /// PML5 (5-level paging only).
    pub pml5: u64,
    /// PML4.
    pub pml4: u64,
    /// Page-directory-pointer table.
    pub pdpt: u64,
    /// Page directory.
    pub pd: u64,
    /// Page table.
    pub pt: u64,
}

impl LevelCounts {
    /// From an array indexed by [`Level::index`].
    pub fn from_levels(a: [u64; 5]) -> LevelCounts {
        LevelCounts {
            pml5: a[Level::Pml5.index()],
            pml4: a[Level::Pml4.index()],
            pdpt: a[Level::Pdpt.index()],
            pd: a[Level::Pd.index()],
            pt: a[Level::Pt.index()],
        }
    }

    /// The sum over levels.
    pub fn total(&self) -> u64 {
        self.pml5 + self.pml4 + self.pdpt + self.pd + self.pt
    }
}

/// Page-walk-cache hits per level of the cached entry (no cache holds PT entries: the TLB does).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PwcLevelCounts {
    /// PML5E cache.
    pub pml5: u64,
    /// PML4E cache.
    pub pml4: u64,
    /// PDPTE cache.
    pub pdpt: u64,
    /// PDE cache.
    pub pd: u64,
}

/// What the translation hardware of one CPU, or of all together, did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HardwareReport {
    /// Per TLB level the machine has (`l1i`, `l1d`, `l2`).
    pub tlb: BTreeMap<&'static str, TlbReport>,
    /// Page walks started.
    pub walks: u64,
    /// Table entries the walks read from memory.
    pub walk_memory_refs: u64,
    /// Of those, per level.
    pub walk_refs_by_level: LevelCounts,
    /// Page-walk-cache hits.
    pub pwc_hits: u64,
    /// Of those, per level.
    pub pwc_hits_by_level: PwcLevelCounts,
    /// Walks that found nothing in any page-walk cache.
    pub pwc_misses: u64,
    /// Writes that hit a TLB entry with D clear and walked again to set it.
    pub dirty_assists: u64,
    /// CR3 writes.
    pub cr3_writes: u64,
    /// INVLPG / INVPCID / shootdown invalidations executed.
    pub invalidations: u64,
    /// TLB entries removed by invalidations and flushes.
    pub tlb_entries_flushed: u64,
    /// Modelled translation cycles.
    pub cycles: u64,
}

impl HardwareReport {
    fn new(s: &CpuStats, present: [bool; 3]) -> HardwareReport {
        let tlb = TlbLevel::ALL
            .into_iter()
            .filter(|t| present[t.index()])
            .map(|t| (t.key(), TlbReport::new(&s.tlb[t.index()])))
            .collect();
        let p = s.pwc_hits;
        HardwareReport {
            tlb,
            walks: s.walks,
            walk_memory_refs: s.walk_memory_refs(),
            walk_refs_by_level: LevelCounts::from_levels(s.walk_refs),
            pwc_hits: p.iter().sum(),
            pwc_hits_by_level: PwcLevelCounts {
                pml5: p[Level::Pml5.index()],
                pml4: p[Level::Pml4.index()],
                pdpt: p[Level::Pdpt.index()],
                pd: p[Level::Pd.index()],
            },
            pwc_misses: s.pwc_misses,
            dirty_assists: s.dirty_assists,
            cr3_writes: s.cr3_writes,
            invalidations: s.invalidations,
            tlb_entries_flushed: s.entries_flushed,
            cycles: s.cycles,
        }
    }
}

/// One CPU's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CpuReport {
    /// CPU number.
    pub cpu: u16,
    /// Translations requested (a retry after a fault counts again, as on hardware).
    pub translations: u64,
    /// Its translation hardware.
    #[serde(flatten)]
    pub hw: HardwareReport,
}

/// Accesses by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ByKind {
    /// Loads.
    pub read: u64,
    /// Stores.
    pub write: u64,
    /// Instruction fetches.
    pub fetch: u64,
}

/// Faults, by what the hardware saw and what the kernel made of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FaultsReport {
    /// Every fault the hardware raised.
    pub total: u64,
    /// Not-present faults.
    pub not_present: u64,
    /// Protection faults.
    pub protection: u64,
    /// Reserved-bit faults.
    pub reserved: u64,
    /// Non-canonical addresses (#GP).
    pub non_canonical: u64,
    /// Faults resolved with a zero-filled page.
    pub demand_zero: u64,
    /// Minor faults (no I/O).
    pub minor: u64,
    /// Major faults (read from swap or a file).
    pub major: u64,
    /// Copy-on-write copies.
    pub cow: u64,
    /// Copy-on-write faults that reused the page (its last sharer).
    pub cow_reuse: u64,
    /// Accesses refused: the process would receive SIGSEGV.
    pub segv: u64,
    /// Faults that grew a stack.
    pub stack_growth: u64,
    /// Faults outside every VMA served as anonymous memory (traces without a memory map).
    pub outside_vmas: u64,
}

/// Swap traffic and occupancy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SwapReport {
    /// Pages read back.
    pub ins: u64,
    /// Pages written out.
    pub outs: u64,
    /// Faults served from the swap cache.
    pub cache_hits: u64,
    /// Slots in use at the end.
    pub used_pages: u64,
    /// Slots in all.
    pub total_pages: u64,
}

/// Transparent huge pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ThpReport {
    /// Huge pages allocated.
    pub allocs: u64,
    /// Huge pages split.
    pub splits: u64,
}

/// Page reclaim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ReclaimReport {
    /// The policy (`None` for a kernel that never reclaims).
    pub policy: Option<&'static str>,
    /// Pages scanned.
    pub scanned: u64,
    /// Pages reclaimed.
    pub stolen: u64,
    /// Reclaims an allocation ran itself.
    pub direct: u64,
    /// Reclaims kswapd ran.
    pub background: u64,
    /// Dirty pages written back.
    pub writebacks: u64,
}

/// File readahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ReadaheadReport {
    /// Pages read ahead.
    pub pages: u64,
    /// Of those, later used.
    pub hits: u64,
}

/// The page cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PageCacheReport {
    /// Faults served from the page cache.
    pub hits: u64,
    /// Pages read from files.
    pub file_reads: u64,
}

/// Thrashing windows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ThrashingReport {
    /// Windows replayed.
    pub windows: u64,
    /// Windows whose major-fault rate passed the threshold.
    pub thrashing_windows: u64,
    /// Accesses per window.
    pub window_accesses: u64,
    /// Major faults per access above which a window thrashes.
    pub major_fault_rate_threshold: f64,
    /// Whether any window thrashed.
    pub flagged: bool,
}

/// An area of a real layout that the model left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedArea {
    /// First byte.
    pub start: VirtAddr,
    /// One past the last.
    pub end: VirtAddr,
    /// Its file, or its role (`[vsyscall]`).
    pub path: String,
    /// Why it was left out (`kernel_address`).
    pub why: &'static str,
}

/// The real layout a run started its processes in (`vmsim run --layout`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LayoutReport {
    /// The layout's file.
    pub file: String,
    /// The process it was read from, when known.
    pub pid: Option<u32>,
    /// Its executable, when known.
    pub exe: Option<String>,
    /// Areas given to each process.
    pub areas: usize,
    /// Distinct backing files.
    pub files: usize,
    /// Areas left out.
    pub skipped: Vec<SkippedArea>,
    /// Whether an access outside every area is a SIGSEGV.
    pub strict: bool,
    /// Faults outside every area (served as anonymous memory unless strict).
    pub outside_faults: u64,
}

/// Everything a run reports.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// The machine's name.
    pub machine: String,
    /// The trace's name.
    pub trace: String,
    /// Page size the kernel maps.
    pub page_size: String,
    /// Trace records replayed.
    pub records: u64,
    /// Page-sized accesses (a record straddling a page boundary counts once per page).
    pub accesses: u64,
    /// Accesses by kind.
    pub by_kind: ByKind,
    /// All CPUs' translation hardware together.
    #[serde(flatten)]
    pub hw: HardwareReport,
    /// The kernel model's name.
    pub kernel: &'static str,
    /// Faults.
    pub faults: FaultsReport,
    /// Swap.
    pub swap: SwapReport,
    /// Processes the OOM killer ended.
    pub oom_kills: u64,
    /// Which, and at which record.
    pub oom_killed: Vec<OomKill>,
    /// Records of ended processes that were not replayed.
    pub dropped_records: u64,
    /// Transparent huge pages.
    pub thp: ThpReport,
    /// Reclaim.
    pub reclaim: ReclaimReport,
    /// Readahead.
    pub readahead: ReadaheadReport,
    /// Page cache.
    pub page_cache: PageCacheReport,
    /// TLB shootdowns sent.
    pub tlb_shootdowns: u64,
    /// Thrashing windows.
    pub thrashing: ThrashingReport,
    /// Free memory in KiB at the end of each window (evenly thinned on long runs).
    pub free_kib_over_time: Vec<u64>,
    /// Memory per process, for kernels that track it.
    pub process_memory: Vec<ProcMemory>,
    /// Page-table pages per level.
    pub page_table_pages: LevelCounts,
    /// Bytes of page-table pages.
    pub page_table_bytes: u64,
    /// Frames holding data rather than page tables.
    pub data_frames: u64,
    /// Processes seen.
    pub processes: usize,
    /// Times a CPU began running another process.
    pub context_switches: u64,
    /// Modelled translation cycles per access.
    pub avg_translation_cycles: f64,
    /// Per CPU.
    pub cpus: Vec<CpuReport>,
    /// The real layout the processes started in, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layout: Option<LayoutReport>,
    /// The hypervisor's figures, when the kernel ran as a guest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub virt: Option<crate::VirtReport>,
    /// The events of the narrated first accesses (`--explain N` with JSON), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explain: Option<Vec<Vec<Event>>>,
}

impl RunReport {
    /// The report of machine `m`, described by `cfg`, after replaying the trace named `trace`.
    pub fn new<K: Kernel>(m: &Machine<K>, cfg: &MachineConfig, trace: &str) -> RunReport {
        let ms = m.stats();
        let total = m.total();
        let present = {
            let c = m.cpus()[0].config();
            [c.l1i.is_some(), c.l1d.is_some(), c.l2.is_some()]
        };
        let summary = m.kernel().summary(m.mem());
        let ks = summary.stats.unwrap_or_default();
        let (minor, major) = match summary.stats {
            Some(k) => (k.minor_faults, k.major_faults),
            None => (ms.demand_zero, 0),
        };
        let tp = m.table_pages();
        let table_pages: u64 = tp.iter().sum();
        RunReport {
            machine: cfg.name.clone(),
            trace: trace.to_string(),
            page_size: cfg.page_size.name(),
            records: ms.records,
            accesses: ms.accesses,
            by_kind: ByKind {
                read: ms.by_kind[0],
                write: ms.by_kind[1],
                fetch: ms.by_kind[2],
            },
            hw: HardwareReport::new(&total, present),
            kernel: summary.name,
            faults: FaultsReport {
                total: total.faults(),
                not_present: total.faults_not_present.iter().sum(),
                protection: total.faults_protection,
                reserved: total.faults_reserved,
                non_canonical: total.faults_non_canonical,
                demand_zero: ms.demand_zero,
                minor,
                major,
                cow: ks.cow_copies,
                cow_reuse: ks.cow_reuses,
                segv: ms.segv,
                stack_growth: ks.stack_growths,
                outside_vmas: ks.outside_vmas,
            },
            swap: SwapReport {
                ins: ks.swap_ins,
                outs: ks.swap_outs,
                cache_hits: ks.swap_cache_hits,
                used_pages: summary.swap_used_pages,
                total_pages: summary.swap_total_pages,
            },
            oom_kills: ks.oom_kills,
            oom_killed: ms.oom_kills.clone(),
            dropped_records: ms.dropped,
            thp: ThpReport {
                allocs: ks.thp_allocs,
                splits: ks.thp_splits,
            },
            reclaim: ReclaimReport {
                policy: summary.policy,
                scanned: ks.reclaim_scanned,
                stolen: ks.reclaim_stolen,
                direct: ks.direct_reclaims,
                background: ks.background_reclaims,
                writebacks: ks.writebacks,
            },
            readahead: ReadaheadReport {
                pages: ks.readahead_pages,
                hits: ks.readahead_hits,
            },
            page_cache: PageCacheReport {
                hits: ks.page_cache_hits,
                file_reads: ks.file_reads,
            },
            tlb_shootdowns: ks.shootdowns,
            thrashing: ThrashingReport {
                windows: ms.windows,
                thrashing_windows: ms.thrashing_windows,
                window_accesses: WINDOW,
                major_fault_rate_threshold: THRASHING_RATE,
                flagged: ms.thrashing_windows > 0,
            },
            free_kib_over_time: ms.free_kib_over_time.clone(),
            process_memory: summary.processes,
            page_table_pages: LevelCounts::from_levels(tp),
            page_table_bytes: table_pages * PageSize::SIZE_4K.bytes(),
            data_frames: m.mem().frames_in_use() - table_pages,
            processes: m.kernel().processes(),
            context_switches: ms.context_switches,
            avg_translation_cycles: ratio(total.cycles, ms.accesses),
            cpus: m
                .cpus()
                .iter()
                .map(|c| CpuReport {
                    cpu: c.id(),
                    translations: c.stats().translations,
                    hw: HardwareReport::new(c.stats(), present),
                })
                .collect(),
            layout: None,
            virt: m.hypervisor().map(|h| crate::VirtReport::new(h, &total)),
            explain: None,
        }
    }
}

/// The text summary `vmsim run` prints.
impl fmt::Display for RunReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self;
        writeln!(
            f,
            "machine {}  trace {}  page size {}",
            r.machine, r.trace, r.page_size
        )?;
        let k = r.by_kind;
        writeln!(
            f,
            "records {}  accesses {} (read {}, write {}, fetch {})  processes {}",
            r.records, r.accesses, k.read, k.write, k.fetch, r.processes,
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "{:<6} {:>14} {:>14} {:>9}",
            "TLB", "hits", "misses", "hit %"
        )?;
        for (name, t) in &r.hw.tlb {
            writeln!(
                f,
                "{:<6} {:>14} {:>14} {:>8.2}%",
                name,
                t.hits,
                t.misses,
                t.hit_ratio * 100.0
            )?;
        }
        writeln!(f)?;
        let hw = &r.hw;
        writeln!(
            f,
            "page walks {}  walk memory refs {} ({:.2} per walk)  page-walk-cache hits {}",
            hw.walks,
            hw.walk_memory_refs,
            ratio(hw.walk_memory_refs, hw.walks),
            hw.pwc_hits
        )?;
        let fa = &r.faults;
        writeln!(
            f,
            "faults {} (minor {}, major {}, copy-on-write {}, segv {})  dirty-bit assists {}",
            fa.total, fa.minor, fa.major, fa.cow, fa.segv, hw.dirty_assists
        )?;
        if r.kernel == "linux" {
            self.fmt_linux(f)?;
        } else {
            writeln!(f, "kernel {}", r.kernel)?;
        }
        if let Some(v) = &r.virt {
            write!(f, "{v}")?;
        }
        let tp = &r.page_table_pages;
        writeln!(
            f,
            "page-table pages: PML5 {} PML4 {} PDPT {} PD {} PT {} ({} KiB)",
            tp.pml5,
            tp.pml4,
            tp.pdpt,
            tp.pd,
            tp.pt,
            r.page_table_bytes / 1024
        )?;
        writeln!(
            f,
            "average translation cost {:.2} cycles per access ({} cycles in all)",
            r.avg_translation_cycles, hw.cycles
        )
    }
}

impl RunReport {
    /// The lines only the Linux-like kernel has figures for.
    fn fmt_linux(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self;
        writeln!(
            f,
            "kernel linux ({} reclaim): swap in {} out {}, reclaim scanned {} stole {}, writebacks {}, OOM kills {}, TLB shootdowns {}",
            r.reclaim.policy.unwrap_or(""),
            r.swap.ins,
            r.swap.outs,
            r.reclaim.scanned,
            r.reclaim.stolen,
            r.reclaim.writebacks,
            r.oom_kills,
            r.tlb_shootdowns,
        )?;
        for k in &r.oom_killed {
            writeln!(
                f,
                "OOM killer ended process {} at record {}",
                k.pid, k.record
            )?;
        }
        if r.dropped_records > 0 {
            writeln!(
                f,
                "{} later records of ended processes were dropped, not replayed",
                r.dropped_records
            )?;
        }
        writeln!(
            f,
            "readahead {} pages ({} used), page cache hits {}, file reads {}, THP allocs {} splits {}",
            r.readahead.pages,
            r.readahead.hits,
            r.page_cache.hits,
            r.page_cache.file_reads,
            r.thp.allocs,
            r.thp.splits,
        )?;
        if let Some(l) = &r.layout {
            let mut skipped = String::new();
            if !l.skipped.is_empty() {
                let _ = write!(skipped, ", {} in kernel space left out", l.skipped.len());
            }
            let outside = if l.strict {
                format!("SIGSEGV ({} segv in all)", r.faults.segv)
            } else {
                format!("{} served as anonymous memory", l.outside_faults)
            };
            writeln!(
                f,
                "layout {}: {} areas ({} files){skipped}; faults outside them: {outside}",
                l.file, l.areas, l.files,
            )?;
        }
        {
            writeln!(
                f,
                "{:>7} {:>10} {:>10} {:>10} {:>10} {:>9} {:>9} {:>9} {:>7}",
                "pid",
                "VSZ KiB",
                "anon KiB",
                "file KiB",
                "shmem KiB",
                "swap KiB",
                "minor",
                "major",
                "COW"
            )?;
            for p in r.process_memory.iter().take(20) {
                writeln!(
                    f,
                    "{:>7} {:>10} {:>10} {:>10} {:>10} {:>9} {:>9} {:>9} {:>7}",
                    p.pid,
                    p.vsz_kib,
                    p.rss_anon_kib,
                    p.rss_file_kib,
                    p.rss_shmem_kib,
                    p.swap_kib,
                    p.stats.minor_faults,
                    p.stats.major_faults,
                    p.stats.cow_copies,
                )?;
            }
        }
        let t = &r.thrashing;
        if t.flagged {
            writeln!(
                f,
                "THRASHING: {} of {} windows of {} accesses had major faults on more than {}% of accesses",
                t.thrashing_windows,
                t.windows,
                t.window_accesses,
                t.major_fault_rate_threshold * 100.0
            )?;
        }
        Ok(())
    }
}
