//! Whole-program tests of the real-system commands (`inspect`, `record`, `probe`): they run
//! against this machine's kernel, so they check relations the kernel guarantees, exit codes and
//! one-line errors, not fixed numbers.
#![cfg(target_os = "linux")]
mod common;
use common::{json, stderr, temp, vmsim};
use std::process::{Command, Output};

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

fn has(tool: &str) -> bool {
    std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .any(|d| std::path::Path::new(d).join(tool).is_file())
}

fn temp_path(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("vmsim-linux-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// `vmsim record --json FLAGS -o OUT -- ls /`, which must succeed.
fn record_ls(flags: &[&str], out: &std::path::Path) -> Output {
    let mut args = vec!["record", "--json"];
    args.extend_from_slice(flags);
    args.extend(["-o", out.to_str().unwrap(), "--", "ls", "/"]);
    let o = vmsim(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    o
}

#[test]
fn record_ls_yields_a_trace_that_run_replays() {
    if !has("valgrind") {
        eprintln!("valgrind not installed: checked by record_without_tools_names_the_install");
        return;
    }
    let out = temp_path("ls.vmt");
    let o = record_ls(&[], &out);
    // ls's own output goes to stderr, the summary alone to stdout.
    assert!(stderr(&o).contains("proc"), "ls / lists /proc");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let n = v["records_written"].as_u64().unwrap();
    assert!(n > 10_000, "a real program makes many accesses: {n}");
    assert_eq!(v["records_read"], v["records_written"]);
    assert_eq!(v["exit_code"], 0);
    let maps = std::fs::read_to_string(format!("{}.maps", out.display())).unwrap();
    assert!(maps.contains("[stack]"), "{maps}");
    let r = vmsim(&["run", out.to_str().unwrap(), "--json"]);
    assert!(r.status.success(), "{}", stderr(&r));
    let run: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(run["records"].as_u64(), Some(n));

    // Replayed in the saved layout: the map read last holds the libraries ls loaded, so every
    // access lies in one of its areas.
    let maps_path = format!("{}.maps", out.display());
    let r = json(&vmsim(&[
        "run",
        out.to_str().unwrap(),
        "--layout",
        &maps_path,
        "--json",
    ]));
    assert!(maps.contains("libc.so"), "{maps}");
    assert_eq!(r["layout"]["outside_faults"], 0, "{}", r["layout"]);
    assert!(
        r["layout"]["files"].as_u64().unwrap() >= 3,
        "ls, ld.so, libc"
    );
    assert!(r["page_cache"]["file_reads"].as_u64().unwrap() > 0);

    // Data only, sampled 1 in 4, stopped at 1000 records.
    let out2 = temp_path("ls-data.txt");
    let o = record_ls(&["--data-only", "--sample", "4", "--limit", "1000"], &out2);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["records_written"], 1000);
    assert_eq!(v["stopped_at_limit"], true);
    let text = std::fs::read_to_string(&out2).unwrap();
    assert_eq!(text.lines().count(), 1000);
    assert!(
        !text.lines().any(|l| l.starts_with('X')),
        "no fetches with --data-only"
    );
}

#[test]
fn record_without_tools_names_the_install() {
    // vmsim with an empty PATH: neither tool can be found.
    let without_tools = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_vmsim"))
            .args(args)
            .env("PATH", "/nonexistent")
            .output()
            .unwrap()
    };
    let o = without_tools(&[
        "record",
        "-o",
        "/dev/null",
        "--to",
        "vmt",
        "--",
        "/bin/true",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("valgrind is not installed")
            && stderr(&o).contains("apt-get install valgrind")
    );
    let o = without_tools(&[
        "record",
        "--faults",
        "-o",
        "/dev/null",
        "--to",
        "text",
        "--",
        "/bin/true",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("perf is not installed") && stderr(&o).contains("linux-perf"));
    let o = vmsim(&["record", "--sample", "0", "--", "true"]);
    assert_eq!(o.status.code(), Some(2));
    let o = vmsim(&["record", "--faults", "--limit", "5", "--", "true"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn record_faults_sees_the_first_touches_of_ls() {
    if !has("perf") || !is_root() {
        eprintln!("perf not installed or not root: tracepoints unavailable");
        return;
    }
    let out = temp_path("ls.faults.txt");
    let o = record_ls(&["--faults"], &out);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let n = v["faults"].as_u64().unwrap();
    assert!(n > 0);
    // Every fault is one line of the trace; a program's first instruction fetch faults.
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.lines().count() as u64, n);
    assert!(v["by_kind"]
        .as_array()
        .unwrap()
        .iter()
        .any(|k| k["kind"] == "fetch"));
}

#[test]
fn probe_tlb_quick_reports_a_knee_json_and_svg() {
    let svg = temp_path("tlb.svg");
    // A timing measurement shares the machine with the other tests: a run whose curve another
    // process flattened is measured again, up to three times, before the test says it is flat.
    let mut last = serde_json::Value::Null;
    for _ in 0..3 {
        let o = vmsim(&[
            "probe",
            "tlb",
            "--quick",
            "--json",
            "--svg",
            svg.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let run = &v["runs"][0];
        assert_eq!(run["page_size"], "4K");
        let pages: Vec<u64> = run["points"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["pages"].as_u64().unwrap())
            .collect();
        assert_eq!(pages.len(), 30);
        assert_eq!((pages[0], pages[2], pages[29]), (1, 3, 32768));
        assert!(v["cpuid_tlbs"].is_array());
        assert!(std::fs::read_to_string(&svg).unwrap().starts_with("<svg"));
        // Past every TLB's reach each access walks the page table: the curve must rise.
        let knees = run["knees"].as_array().unwrap();
        for k in knees {
            assert!(k["ns_after"].as_f64() > k["ns_before"].as_f64());
            assert!(k["exceeds"].as_u64() > k["fits"].as_u64());
        }
        if !knees.is_empty() {
            return;
        }
        last = run.clone();
    }
    panic!("no knee in three runs; the last: {last}");
}

#[test]
fn probe_tlb_rejects_bad_flags() {
    for args in [
        &["probe", "tlb", "--max-pages", "0"][..],
        &["probe", "tlb", "--knee-ratio", "0.5"][..],
        &["probe", "nothing"][..],
    ] {
        let o = vmsim(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn wss_of_a_sleeping_process_and_bad_pids() {
    let mut child = Command::new("sleep").arg("5").spawn().unwrap();
    let pid = child.id().to_string();
    // Wait until it sleeps (state S): its start-up touches are then behind it.
    let state = || {
        let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        s.rsplit(") ").next().and_then(|r| r.chars().next())
    };
    for _ in 0..5000 {
        if state() == Some('S') {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let o = vmsim(&["wss", &pid, "--interval", "50", "--samples", "3", "--json"]);
    child.kill().ok();
    child.wait().ok();
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let s = v["samples"].as_array().unwrap();
    assert_eq!(s.len(), 3);
    // A sleeping process touches almost none of its anonymous memory between clears. (Its
    // file pages are shared: another process's reads mark them referenced too.)
    for x in s {
        assert!(x["anon_kib"].as_u64().unwrap() < 1024, "{x}");
        assert!(x["file_kib"].is_u64(), "{x}");
    }
    let o = vmsim(&["wss", "99999999", "--samples", "1", "--interval", "1"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("/proc/99999999/clear_refs"),
        "{}",
        stderr(&o)
    );
    let o = vmsim(&["wss", "1", "--samples", "0"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn probe_aslr_sees_the_stack_move_and_probe_faults_reports_three_kinds() {
    let o = vmsim(&["probe", "aslr", "--runs", "6", "--json", "--", "sleep", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let regions = v["regions"].as_array().unwrap();
    let stack = regions
        .iter()
        .find(|r| r["region"] == "stack (top)")
        .unwrap();
    assert_eq!(stack["runs"], 6);
    let randomized = std::fs::read_to_string("/proc/sys/kernel/randomize_va_space")
        .map(|s| s.trim() != "0")
        .unwrap_or(true);
    if randomized {
        // Six runs of a randomised stack top: the chance that all share one base is nil.
        assert!(stack["varying_bits"].as_u64().unwrap() > 0, "{stack}");
    }
    let o = vmsim(&["probe", "aslr", "--runs", "1", "--", "true"]);
    assert_eq!(o.status.code(), Some(2));
    let o = vmsim(&[
        "probe", "faults", "--pages", "256", "--trials", "1", "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for k in ["demand_zero", "minor", "cow"] {
        assert!(v[k]["ns_per_fault"].as_f64().is_some(), "{k}");
    }
    assert_eq!(v["demand_zero"]["faults"], 256);
    assert_eq!(
        vmsim(&["probe", "faults", "--pages", "0"]).status.code(),
        Some(2)
    );
}

#[test]
fn inspect_without_ptrace_access_shows_status_and_names_what_is_missing() {
    // As root, drop to `nobody` (setpriv) to look at pid 1; unprivileged, pid 1 is already
    // another user's process.
    let o = if is_root() {
        let Ok(o) = Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_vmsim"))
            .args(["inspect", "1", "--json"])
            .output()
        else {
            eprintln!("setpriv not installed");
            return;
        };
        if matches!(o.status.code(), Some(126 | 127)) {
            // `nobody` may not reach the binary (a target directory under /root).
            eprintln!("nobody cannot execute vmsim here: {}", stderr(&o));
            return;
        }
        o
    } else {
        vmsim(&["inspect", "1", "--json"])
    };
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["pid"], 1);
    assert_eq!(v["model_vs_vmpte"]["verdict"], "not_modelled");
    assert!(v["areas"].as_array().unwrap().is_empty());
    assert_eq!(v["rss_kib"], v["status"]["vm_rss"]);
    let notes = v["visibility"]["notes"].as_array().unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n.as_str().unwrap().contains("ptrace access")),
        "{notes:?}"
    );
}

const LAYOUT: &str = "\
00400000-00401000 r-xp 00000000 08:01 5 /bin/x
00401000-00402000 rw-p 00001000 08:01 5 /bin/x
7ffc00000000-7ffc00002000 rw-p 00000000 00:00 0 [stack]
ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]
";

/// Fetch and read in the text, write the data, write the text (refused), grow the stack by
/// one page, and touch memory no area holds.
const LAYOUT_TRACE: &str = "\
X 0x400000
R 0x400010
W 0x401000
W 0x400020
W 0x7ffbfffff000
R 0x10000000
";

#[test]
fn run_replays_in_a_saved_layout() {
    let maps = temp("x.maps", LAYOUT);
    let trace = temp("x.trace", LAYOUT_TRACE);
    let (maps, trace) = (maps.to_str().unwrap(), trace.to_str().unwrap());
    let r = json(&vmsim(&["run", trace, "--layout", maps, "--json"]));
    let l = &r["layout"];
    assert_eq!(
        (l["areas"].as_u64(), l["files"].as_u64()),
        (Some(3), Some(1))
    );
    assert_eq!(l["skipped"][0]["why"], "kernel_address");
    assert_eq!(l["outside_faults"], 1, "only 0x10000000 lies outside");
    assert_eq!(r["faults"]["segv"], 1, "the write to the text");
    assert_eq!(r["faults"]["stack_growth"], 1);
    // The text and data pages are one file's pages 0 and 1, read from disk once.
    assert!(r["page_cache"]["file_reads"].as_u64().unwrap() >= 1);

    let r = json(&vmsim(&[
        "run",
        trace,
        "--layout",
        maps,
        "--strict-layout",
        "--json",
    ]));
    assert_eq!(r["layout"]["outside_faults"], 0);
    assert_eq!(
        r["faults"]["segv"], 2,
        "the text write and the access outside"
    );
    let o = vmsim(&["run", trace, "--layout", maps, "--strict-layout"]);
    assert!(common::stdout(&o).contains("faults outside them: SIGSEGV (2 segv in all)"));

    // Without a layout every page is implicit anonymous memory: nothing is refused.
    let r = json(&vmsim(&["run", trace, "--json"]));
    assert_eq!(r["faults"]["segv"], 0);
    // Four distinct pages; 0x400000 is fetched first (the zero page, read-only) and written
    // later: a second fault.
    assert_eq!(
        r["faults"]["outside_vmas"], 5,
        "four pages, one faulted twice"
    );
}

#[test]
fn run_replays_in_a_snapshot_of_a_live_process() {
    let snap = temp_path("self.json");
    let o = vmsim(&["inspect", "self", "--snapshot", snap.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&snap).unwrap()).unwrap();
    let stack = saved["vmas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["region"] == "stack")
        .expect("a stack area");
    let top = stack["end"].as_u64().unwrap() - 8;
    let trace = temp("snap.trace", &format!("W {top:#x}\nR {:#x}\n", 0x1000));
    let r = json(&vmsim(&[
        "run",
        trace.to_str().unwrap(),
        "--layout",
        snap.to_str().unwrap(),
        "--strict-layout",
        "--json",
    ]));
    assert_eq!(r["layout"]["pid"], saved["pid"]);
    assert_eq!(
        r["faults"]["segv"], 1,
        "page 0x1000 is not mapped in any process"
    );
    assert_eq!(r["faults"]["demand_zero"], 1, "the stack write");
}

#[test]
fn bad_layouts_and_flags_are_refused() {
    let trace = temp("y.trace", "R 0x1000\n");
    let trace = trace.to_str().unwrap();
    let bad = temp(
        "bad.maps",
        "00400000-00401000 r-xp 0 08:01 5 /bin/x\nnonsense\n",
    );
    let o = vmsim(&["run", trace, "--layout", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains(&format!("{}:2: ", bad.display())),
        "{}",
        stderr(&o)
    );
    let bad = temp(
        "bad.json",
        r#"{"vmas": [{"start": 1, "end": 4096, "perms": "r--p", "region": "anon", "path": ""}]}"#,
    );
    let o = vmsim(&["run", trace, "--layout", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("vmas[0] (0x1-0x1000): 0x1-0x1000 is not a page-aligned"),
        "{}",
        stderr(&o)
    );
    let o = vmsim(&["run", trace, "--strict-layout"]);
    assert_eq!(o.status.code(), Some(2));
    let maps = temp("z.maps", LAYOUT);
    let o = vmsim(&[
        "run",
        trace,
        "--layout",
        maps.to_str().unwrap(),
        "--kernel",
        "demand-zero",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--layout needs the linux kernel model"));
}
