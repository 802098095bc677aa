//! Hostile input, faults and output integrity: no panic, no silent wrong answer, no lost or
//! partial output; a one-line error naming the file and line (or the flag) and exit code 1
//! (input) or 2 (flag values).
mod common;
use common::{json, stderr, temp, vmsim};
use std::process::Output;

/// The run failed with `code` and one line on stderr containing every one of `parts`.
fn refused(o: &Output, code: i32, parts: &[&str]) {
    let e = stderr(o);
    assert_eq!(o.status.code(), Some(code), "{e}");
    assert_eq!(e.lines().count(), 1, "one line: {e}");
    assert!(!e.contains("panicked"), "{e}");
    for p in parts {
        assert!(e.contains(p), "`{p}` in: {e}");
    }
}

#[test]
fn an_empty_trace_is_refused_by_every_command_that_reads_one() {
    let empty = temp("empty.txt", "# nothing but a comment\n");
    let e = empty.to_str().unwrap();
    let out = temp("empty-out.vmt", "");
    std::fs::remove_file(&out).unwrap();
    for args in [
        vec!["run", e],
        vec!["convert", e, out.to_str().unwrap()],
        vec!["policy", e],
        vec!["mrc", e],
        vec!["ws", e],
    ] {
        let o = vmsim(&args);
        refused(&o, 1, &[e, "the trace holds no accesses"]);
    }
}

#[test]
fn an_access_past_the_top_of_the_address_space_is_refused_not_wrapped() {
    let t = temp("wrap.txt", "R 0x1000\nR 0xffffffffffffffff 2\n");
    let name = t.to_str().unwrap();
    for cmd in ["run", "policy", "mrc"] {
        let o = vmsim(&[cmd, name]);
        refused(
            &o,
            1,
            &[&format!("{name}:2:"), "past the end of the 64-bit address space"],
        );
    }
}

#[test]
fn an_access_into_the_canonical_hole_is_refused_by_run() {
    let t = temp("hole.txt", "R 0x7fffffffffff 4294967295\n");
    let name = t.to_str().unwrap();
    let o = vmsim(&["run", name]);
    refused(&o, 1, &[&format!("{name}:1:"), "last canonical address"]);
}

#[test]
fn policy_counts_every_page_of_a_long_access_as_run_replays_it() {
    // 64 KiB from a page boundary plus one byte: 17 pages, not the first and the last.
    let t = temp("long.txt", "R 0x10000 65537\n");
    let v = json(&vmsim(&["policy", t.to_str().unwrap(), "--json", "--policy", "lru"]));
    assert_eq!(v["accesses"], 17);
    assert_eq!(v["results"][0]["misses"], 17);
}
