//! `--virt nested|shadow` from the command line: the report's `virt` object, the 2-D walk in
//! `vmsim explain --json`, the shadow/nested trade-off on a fork/munmap workload, bad flags.
mod common;
use common::{stderr, vmsim};

fn json(args: &[&str]) -> serde_json::Value {
    let o = vmsim(args);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn the_report_counts_both_dimensions_and_native_has_no_virt() {
    let native = json(&["run", "--json"]);
    assert!(native.get("virt").is_none());
    let n = json(&["run", "--json", "--virt", "nested"]);
    let v = &n["virt"];
    assert_eq!(v["mode"], "nested");
    assert_eq!(v["guest_walk_refs"], n["walk_memory_refs"]);
    let host = v["host_walk_refs"].as_u64().unwrap();
    assert!(host > 0);
    let ept = v["ept_violations"].as_u64().unwrap();
    assert!(ept > 0);
    assert_eq!(v["vm_exits"].as_u64().unwrap(), ept);
    assert_eq!(v["shadow_syncs"], 0);
    // The guest sees the same faults as natively: the host's are counted apart.
    assert_eq!(n["faults"], native["faults"]);
    // 2M host pages: fewer EPT violations and shorter host walks.
    let h = json(&[
        "run",
        "--json",
        "--virt",
        "nested",
        "--host-page-size",
        "2M",
    ]);
    assert!(h["virt"]["ept_violations"].as_u64().unwrap() < ept);
    assert!(h["virt"]["host_walk_refs"].as_u64().unwrap() < host);
    let s = json(&["run", "--json", "--virt", "shadow"]);
    assert_eq!(s["virt"]["host_walk_refs"], 0);
    assert!(s["virt"]["shadow_syncs"].as_u64().unwrap() > 0);
    assert_eq!(s["faults"], native["faults"]);
}

/// The reads of the last walk of the last access `vmsim explain --json` narrates.
fn last_walk(extra: &[&str]) -> Vec<serde_json::Value> {
    let mut args = vec![
        "explain",
        "0x7f0000000000",
        "w:0x7f0000403000",
        "--virt",
        "nested",
        "--no-pwc",
        "--json",
    ];
    args.extend_from_slice(extra);
    let v = json(&args);
    let events = v["accesses"][1]["events"].as_array().unwrap().clone();
    let start = events
        .iter()
        .rposition(|e| e["event"] == "walk_start")
        .unwrap();
    events[start..]
        .iter()
        .filter(|e| e["event"] == "walk_read")
        .cloned()
        .collect()
}

#[test]
fn explain_shows_24_reads_4_on_4_and_35_5_on_5() {
    let r = last_walk(&[]);
    assert_eq!(r.len(), 24);
    assert_eq!(r[0]["dimension"], "host");
    assert_eq!(r[0]["guest_level"], "pml4");
    assert_eq!(r[4]["dimension"], "guest");
    assert_eq!(r[4]["level"], "pml4");
    assert!(r[23]["guest_level"].is_null());
    let guest: Vec<_> = r.iter().filter(|e| e["dimension"] == "guest").collect();
    assert_eq!(guest.len(), 4);
    let r = last_walk(&["--guest-levels", "5", "--host-levels", "5"]);
    assert_eq!(r.len(), 35);
}

#[test]
fn shadow_trades_walk_references_for_exits_on_fork_and_munmap() {
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/fork-munmap.toml"
    );
    let n = json(&[
        "workload", file, "--json", "--cpus", "2", "--virt", "nested",
    ]);
    let s = json(&[
        "workload", file, "--json", "--cpus", "2", "--virt", "shadow",
    ]);
    let (nv, sv) = (&n["virt"], &s["virt"]);
    assert!(sv["vm_exits"].as_u64().unwrap() > 10 * nv["vm_exits"].as_u64().unwrap());
    assert!(sv["guest_table_writes"].as_u64().unwrap() > 1000);
    let refs = |v: &serde_json::Value| {
        v["guest_walk_refs"].as_u64().unwrap() + v["host_walk_refs"].as_u64().unwrap()
    };
    assert!(refs(sv) < refs(nv));
    assert_eq!(n["faults"], s["faults"]);
}

#[test]
fn host_flags_without_a_hypervisor_and_bad_modes_are_usage_errors() {
    for args in [
        &["run", "--host-levels", "5"][..],
        &["run", "--host-page-size", "2M"],
        &["run", "--virt", "paravirt"],
        &["run", "--virt", "nested", "--host-levels", "3"],
        &["run", "--virt", "nested", "--page-size", "2M"],
    ] {
        let o = vmsim(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let e = stderr(&o);
        assert_eq!(e.trim_end().lines().count(), 1, "{args:?}: {e}");
    }
}
