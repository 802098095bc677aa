//! Whole-program tests of the real-system commands (`inspect`, `record`, `probe`): they run
//! against this machine's kernel, so they check relations the kernel guarantees, exit codes and
//! one-line errors, not fixed numbers.
#![cfg(target_os = "linux")]
use std::process::{Command, Output};

fn vmsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vmsim"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run vmsim")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("0"))
}

#[test]
fn inspect_self_json_has_the_documented_keys_and_consistent_totals() {
    let o = vmsim(&["inspect", "self", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for k in [
        "pid",
        "vsz_kib",
        "rss_kib",
        "vmpte_kib",
        "pss_kib",
        "uss_kib",
        "swap_kib",
    ] {
        assert!(v[k].is_u64(), "missing {k}");
    }
    for k in ["pud", "pmd", "pte"] {
        assert!(v["model_table_pages"][k].as_u64().unwrap() >= 1, "{k}");
    }
    let areas = v["areas"].as_array().unwrap();
    let stack = areas.iter().find(|a| a["region"] == "stack").unwrap();
    assert_eq!(stack["perms"], "rw-p");
    let text = areas.iter().find(|a| a["region"] == "text").unwrap();
    assert_eq!(text["perms"], "r-xp");
    assert_eq!(v["visibility"]["frame_numbers"], is_root());
}

#[test]
fn inspect_a_command_and_save_a_snapshot() {
    let snap = std::env::temp_dir().join(format!("vmsim-inspect-{}.json", std::process::id()));
    let o = vmsim(&[
        "inspect",
        "--json",
        "--snapshot",
        snap.to_str().unwrap(),
        "--delay",
        "100",
        "--",
        "sleep",
        "2",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["name"], "sleep");
    // Stopped while read: the kernel's VmRSS is the sum of the areas' Rss, and the model never
    // needs more tables than the kernel holds.
    assert_eq!(v["rss_kib"], v["status"]["vm_rss"]);
    assert_ne!(v["model_vs_vmpte"]["verdict"], "model_above");
    let s: serde_json::Value = serde_json::from_slice(&std::fs::read(&snap).unwrap()).unwrap();
    assert!(s["vmas"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["path"] == "[stack]"));
    assert!(!s["present"].as_array().unwrap().is_empty());
    std::fs::remove_file(snap).ok();
}

#[test]
fn inspect_bad_targets_fail_with_one_line() {
    let o = vmsim(&["inspect", "pid1"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("not `self` or a process id"));
    let o = vmsim(&["inspect"]);
    assert_eq!(o.status.code(), Some(2));
    // A pid above the kernel's pid_max (4194304 at most) cannot exist.
    let o = vmsim(&["inspect", "99999999"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o).trim(),
        "vmsim: /proc/99999999/status: No such file or directory (os error 2)"
    );
    let o = vmsim(&["inspect", "--delay", "1000", "--", "true"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("before it could be inspected"),
        "{}",
        stderr(&o)
    );
}
