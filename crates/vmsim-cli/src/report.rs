//! The statistics of a run under stable names: one JSON object (documented in the README) and a
//! text summary built from it, so both outputs always agree.

use serde_json::{json, Map, Value};
use vmsim_core::config::MachineConfig;
use vmsim_core::event::TlbLevel;
use vmsim_core::kernel::Kernel;
use vmsim_core::machine::Machine;
use vmsim_core::mmu::CpuStats;
use vmsim_core::{Level, PageSize};

const SIZE_KEYS: [&str; 4] = ["4K", "2M", "1G", "other"];

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

fn hw_json(s: &CpuStats, present: [bool; 3]) -> Map<String, Value> {
    let mut m = Map::new();
    let mut tlb = Map::new();
    for t in TlbLevel::ALL {
        if !present[t.index()] {
            continue;
        }
        let st = &s.tlb[t.index()];
        let (h, mi) = (st.total_hits(), st.total_misses());
        let mut by = Map::new();
        for (i, k) in SIZE_KEYS.iter().enumerate() {
            if st.hits[i] + st.misses[i] > 0 {
                by.insert(
                    k.to_string(),
                    json!({"hits": st.hits[i], "misses": st.misses[i]}),
                );
            }
        }
        tlb.insert(
            t.key().into(),
            json!({"hits": h, "misses": mi, "hit_ratio": ratio(h, h + mi), "by_size": by}),
        );
    }
    m.insert("tlb".into(), Value::Object(tlb));
    m.insert("walks".into(), json!(s.walks));
    m.insert("walk_memory_refs".into(), json!(s.walk_memory_refs()));
    let mut refs = Map::new();
    let mut pwc = Map::new();
    for l in Level::ALL {
        refs.insert(l.key().into(), json!(s.walk_refs[l.index()]));
        if l != Level::Pt {
            pwc.insert(l.key().into(), json!(s.pwc_hits[l.index()]));
        }
    }
    m.insert("walk_refs_by_level".into(), Value::Object(refs));
    m.insert("pwc_hits".into(), json!(s.pwc_hits.iter().sum::<u64>()));
    m.insert("pwc_hits_by_level".into(), Value::Object(pwc));
    m.insert("pwc_misses".into(), json!(s.pwc_misses));
    m.insert("dirty_assists".into(), json!(s.dirty_assists));
    m.insert("cr3_writes".into(), json!(s.cr3_writes));
    m.insert("invalidations".into(), json!(s.invalidations));
    m.insert("tlb_entries_flushed".into(), json!(s.entries_flushed));
    m.insert("cycles".into(), json!(s.cycles));
    m
}

/// The JSON report of a finished run.
pub fn json<K: Kernel>(m: &Machine<K>, cfg: &MachineConfig, trace: &str) -> Value {
    let ms = m.stats();
    let total = m.total();
    let present = {
        let c = &m.cpus()[0];
        [
            c.tlb(TlbLevel::L1i).is_some(),
            c.tlb(TlbLevel::L1d).is_some(),
            c.tlb(TlbLevel::L2).is_some(),
        ]
    };
    let mut o = Map::new();
    o.insert("machine".into(), json!(cfg.name));
    o.insert("trace".into(), json!(trace));
    o.insert("page_size".into(), json!(cfg.page_size.name()));
    o.insert("records".into(), json!(ms.records));
    o.insert("accesses".into(), json!(ms.accesses));
    o.insert(
        "by_kind".into(),
        json!({"read": ms.by_kind[0], "write": ms.by_kind[1], "fetch": ms.by_kind[2]}),
    );
    for (k, v) in hw_json(&total, present) {
        o.insert(k, v);
    }
    let np: u64 = total.faults_not_present.iter().sum();
    let summary = m.kernel().summary(m.mem());
    let ks = summary.stats.unwrap_or_default();
    let (minor, major) = match summary.stats {
        Some(k) => (k.minor_faults, k.major_faults),
        None => (ms.demand_zero, 0),
    };
    o.insert("kernel".into(), json!(summary.name));
    o.insert(
        "faults".into(),
        json!({
            "total": total.faults(),
            "not_present": np,
            "protection": total.faults_protection,
            "reserved": total.faults_reserved,
            "non_canonical": total.faults_non_canonical,
            "demand_zero": ms.demand_zero,
            "minor": minor,
            "major": major,
            "cow": ks.cow_copies,
            "cow_reuse": ks.cow_reuses,
            "segv": ms.segv,
            "stack_growth": ks.stack_growths,
            "outside_vmas": ks.outside_vmas,
        }),
    );
    o.insert(
        "swap".into(),
        json!({
            "ins": ks.swap_ins,
            "outs": ks.swap_outs,
            "cache_hits": ks.swap_cache_hits,
            "used_pages": summary.swap_used_pages,
            "total_pages": summary.swap_total_pages,
        }),
    );
    o.insert("oom_kills".into(), json!(ks.oom_kills));
    o.insert(
        "thp".into(),
        json!({"allocs": ks.thp_allocs, "splits": ks.thp_splits}),
    );
    o.insert(
        "reclaim".into(),
        json!({
            "policy": summary.policy,
            "scanned": ks.reclaim_scanned,
            "stolen": ks.reclaim_stolen,
            "direct": ks.direct_reclaims,
            "background": ks.background_reclaims,
            "writebacks": ks.writebacks,
        }),
    );
    o.insert(
        "readahead".into(),
        json!({"pages": ks.readahead_pages, "hits": ks.readahead_hits}),
    );
    o.insert(
        "page_cache".into(),
        json!({"hits": ks.page_cache_hits, "file_reads": ks.file_reads}),
    );
    o.insert("tlb_shootdowns".into(), json!(ks.shootdowns));
    o.insert(
        "thrashing".into(),
        json!({
            "windows": ms.windows,
            "thrashing_windows": ms.thrashing_windows,
            "window_accesses": vmsim_core::machine::WINDOW,
            "major_fault_rate_threshold": vmsim_core::machine::THRASHING_RATE,
            "flagged": ms.thrashing_windows > 0,
        }),
    );
    o.insert("free_kib_over_time".into(), json!(ms.free_kib_over_time));
    o.insert("process_memory".into(), json!(summary.processes));
    let tp = m.table_pages();
    let mut pages = Map::new();
    for l in Level::ALL {
        pages.insert(l.key().into(), json!(tp[l.index()]));
    }
    o.insert("page_table_pages".into(), Value::Object(pages));
    o.insert(
        "page_table_bytes".into(),
        json!(tp.iter().sum::<u64>() * PageSize::SIZE_4K.bytes()),
    );
    o.insert(
        "data_frames".into(),
        json!(m.mem().frames_in_use() - tp.iter().sum::<u64>()),
    );
    o.insert("processes".into(), json!(m.kernel().processes()));
    o.insert("context_switches".into(), json!(ms.context_switches));
    o.insert(
        "avg_translation_cycles".into(),
        json!(ratio(total.cycles, ms.accesses)),
    );
    let cpus: Vec<Value> = m
        .cpus()
        .iter()
        .map(|c| {
            let mut v = hw_json(c.stats(), present);
            v.insert("cpu".into(), json!(c.id()));
            v.insert("translations".into(), json!(c.stats().translations));
            Value::Object(v)
        })
        .collect();
    o.insert("cpus".into(), Value::Array(cpus));
    Value::Object(o)
}

fn n(v: &Value, path: &[&str]) -> u64 {
    let mut x = v;
    for p in path {
        x = &x[*p];
    }
    x.as_u64().unwrap_or(0)
}

/// A short text summary of the JSON report.
pub fn text(r: &Value) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let acc = n(r, &["accesses"]);
    let _ = writeln!(
        s,
        "machine {}  trace {}  page size {}",
        r["machine"].as_str().unwrap_or(""),
        r["trace"].as_str().unwrap_or(""),
        r["page_size"].as_str().unwrap_or("")
    );
    let _ = writeln!(
        s,
        "records {}  accesses {} (read {}, write {}, fetch {})  processes {}",
        n(r, &["records"]),
        acc,
        n(r, &["by_kind", "read"]),
        n(r, &["by_kind", "write"]),
        n(r, &["by_kind", "fetch"]),
        n(r, &["processes"]),
    );
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "{:<6} {:>14} {:>14} {:>9}",
        "TLB", "hits", "misses", "hit %"
    );
    if let Some(t) = r["tlb"].as_object() {
        for (k, v) in t {
            let _ = writeln!(
                s,
                "{:<6} {:>14} {:>14} {:>8.2}%",
                k,
                v["hits"].as_u64().unwrap_or(0),
                v["misses"].as_u64().unwrap_or(0),
                v["hit_ratio"].as_f64().unwrap_or(0.0) * 100.0
            );
        }
    }
    let _ = writeln!(s);
    let walks = n(r, &["walks"]);
    let _ = writeln!(
        s,
        "page walks {}  walk memory refs {} ({:.2} per walk)  page-walk-cache hits {}",
        walks,
        n(r, &["walk_memory_refs"]),
        ratio(n(r, &["walk_memory_refs"]), walks),
        n(r, &["pwc_hits"])
    );
    let _ = writeln!(
        s,
        "faults {} (minor {}, major {}, copy-on-write {}, segv {})  dirty-bit assists {}",
        n(r, &["faults", "total"]),
        n(r, &["faults", "minor"]),
        n(r, &["faults", "major"]),
        n(r, &["faults", "cow"]),
        n(r, &["faults", "segv"]),
        n(r, &["dirty_assists"])
    );
    if r["kernel"] == "linux" {
        let _ = writeln!(
            s,
            "kernel linux ({} reclaim): swap in {} out {}, reclaim scanned {} stole {}, writebacks {}, OOM kills {}, TLB shootdowns {}",
            r["reclaim"]["policy"].as_str().unwrap_or(""),
            n(r, &["swap", "ins"]),
            n(r, &["swap", "outs"]),
            n(r, &["reclaim", "scanned"]),
            n(r, &["reclaim", "stolen"]),
            n(r, &["reclaim", "writebacks"]),
            n(r, &["oom_kills"]),
            n(r, &["tlb_shootdowns"]),
        );
        let _ = writeln!(
            s,
            "readahead {} pages ({} used), page cache hits {}, file reads {}, THP allocs {} splits {}",
            n(r, &["readahead", "pages"]),
            n(r, &["readahead", "hits"]),
            n(r, &["page_cache", "hits"]),
            n(r, &["page_cache", "file_reads"]),
            n(r, &["thp", "allocs"]),
            n(r, &["thp", "splits"]),
        );
        if r["layout"].is_object() {
            let l = &r["layout"];
            let skipped = l["skipped"].as_array().map_or(0, Vec::len);
            let _ = writeln!(
                s,
                "layout {}: {} areas ({} files){}; faults outside them: {}",
                l["file"].as_str().unwrap_or(""),
                n(l, &["areas"]),
                n(l, &["files"]),
                if skipped > 0 {
                    format!(", {skipped} in kernel space left out")
                } else {
                    String::new()
                },
                if l["strict"] == true {
                    format!("SIGSEGV ({} segv in all)", n(r, &["faults", "segv"]))
                } else {
                    format!("{} served as anonymous memory", n(l, &["outside_faults"]))
                },
            );
        }
        if let Some(procs) = r["process_memory"].as_array() {
            let _ = writeln!(
                s,
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
            );
            for p in procs.iter().take(20) {
                let _ = writeln!(
                    s,
                    "{:>7} {:>10} {:>10} {:>10} {:>10} {:>9} {:>9} {:>9} {:>7}",
                    n(p, &["pid"]),
                    n(p, &["vsz_kib"]),
                    n(p, &["rss_anon_kib"]),
                    n(p, &["rss_file_kib"]),
                    n(p, &["rss_shmem_kib"]),
                    n(p, &["swap_kib"]),
                    n(p, &["stats", "minor_faults"]),
                    n(p, &["stats", "major_faults"]),
                    n(p, &["stats", "cow_copies"]),
                );
            }
        }
        if r["thrashing"]["flagged"].as_bool() == Some(true) {
            let _ = writeln!(
                s,
                "THRASHING: {} of {} windows of {} accesses had major faults on more than {}% of accesses",
                n(r, &["thrashing", "thrashing_windows"]),
                n(r, &["thrashing", "windows"]),
                n(r, &["thrashing", "window_accesses"]),
                r["thrashing"]["major_fault_rate_threshold"].as_f64().unwrap_or(0.0) * 100.0
            );
        }
    } else {
        let _ = writeln!(s, "kernel {}", r["kernel"].as_str().unwrap_or(""));
    }
    let tp = &r["page_table_pages"];
    let _ = writeln!(
        s,
        "page-table pages: PML5 {} PML4 {} PDPT {} PD {} PT {} ({} KiB)",
        n(tp, &["pml5"]),
        n(tp, &["pml4"]),
        n(tp, &["pdpt"]),
        n(tp, &["pd"]),
        n(tp, &["pt"]),
        n(r, &["page_table_bytes"]) / 1024
    );
    let _ = writeln!(
        s,
        "average translation cost {:.2} cycles per access ({} cycles in all)",
        r["avg_translation_cycles"].as_f64().unwrap_or(0.0),
        n(r, &["cycles"])
    );
    s
}
