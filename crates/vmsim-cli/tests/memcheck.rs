//! Whole-program tests of `vmsim memcheck`: the built-in example's errors at their exact
//! operations, leak classes, the mmap threshold flag, and bad input.
mod common;
use common::{json, temp, vmsim};

/// (op, call, new break or mapping length) of each system call in a JSON report.
fn heap_calls(v: &serde_json::Value) -> Vec<(u64, String, u64)> {
    v["heap"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["op"].as_u64().unwrap(),
                e["call"].as_str().unwrap().to_string(),
                e["len"].as_u64().or(e["to"].as_u64()).unwrap(),
            )
        })
        .collect()
}

#[test]
fn the_built_in_example_shows_each_error_class_at_its_operation() {
    let v = json(&vmsim(&["memcheck", "--json"]));
    let errors: Vec<(u64, u64, String)> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["op"].as_u64().unwrap(),
                e["line"].as_u64().unwrap(),
                e["class"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want = [
        (3, 6, "uninitialised read"),
        (4, 7, "out of bounds"),
        (5, 8, "out of bounds"),
        (13, 16, "use after free"),
        (14, 17, "double free"),
        (15, 18, "invalid free"),
        (16, 19, "invalid free"),
    ];
    let want: Vec<(u64, u64, String)> = want
        .iter()
        .map(|&(o, l, c)| (o, l, c.to_string()))
        .collect();
    assert_eq!(errors, want);
    assert_eq!(v["errors"][0]["detail"]["first_undefined"], 32);
    assert_eq!(v["errors"][2]["detail"]["offset"], -8);
    let leaks: Vec<(u64, &str)> = v["leaks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["block"]["size"].as_u64().unwrap(),
                l["kind"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        leaks,
        [
            (128, "still_reachable"),
            (24, "still_reachable"),
            (40, "definitely_lost"),
            (8, "indirectly_lost"),
            (128, "still_reachable"),
        ]
    );
    // 256 KiB + 8 rounds to 262160; + 8 rounded up to pages: 65 pages.
    assert_eq!(
        heap_calls(&v),
        [
            (0, "brk".into(), 0x62_1000),
            (10, "mmap".into(), 65 * 4096),
            (12, "munmap".into(), 65 * 4096)
        ]
    );
    assert_eq!(v["summary"]["brk_end"], 0x62_1000);
    let text = String::from_utf8(vmsim(&["memcheck"]).stdout).unwrap();
    assert!(
        text.contains(
            "op 16 (line 19): invalid free: free of 0x1000, which no allocation returned"
        ),
        "{text}"
    );
    assert!(text.contains("leak summary: definitely lost 40 bytes in 1 blocks, indirectly lost 8 bytes in 1 blocks"), "{text}");
}

#[test]
fn the_threshold_flag_moves_big_blocks_to_brk() {
    let p = temp("big.trace", "big = malloc 256K\nfree big\n");
    let v = json(&vmsim(&["memcheck", p.to_str().unwrap(), "--json"]));
    assert_eq!(v["heap"][0]["call"], "mmap");
    let v = json(&vmsim(&[
        "memcheck",
        p.to_str().unwrap(),
        "--json",
        "--mmap-threshold",
        "1M",
    ]));
    assert_eq!(v["heap"][0]["call"], "brk");
    // 8 + 262160 + 128K top pad, rounded up to pages: 97 pages.
    assert_eq!(v["heap"][0]["to"], 0x60_0000 + 97 * 4096);
    assert_eq!(v["errors"], serde_json::json!([]));
    assert_eq!(v["leaks"], serde_json::json!([]));
    // The example under a 1 MiB threshold: big (chunk 262160 at 0x600108, after buf, tab and
    // node) grows the break to base + round_up(0x40118 + 128K, 4K); freeing it trims back.
    let v = json(&vmsim(&["memcheck", "--json", "--mmap-threshold", "1M"]));
    assert_eq!(
        heap_calls(&v),
        [
            (0, "brk".into(), 0x62_1000),
            (10, "brk".into(), 0x66_1000),
            (12, "brk".into(), 0x62_1000)
        ]
    );
    // The same leaks: the stale `big` does not keep `lost`, placed at its old address, alive.
    assert_eq!(v["summary"]["definitely_lost"]["bytes"], 40);
    assert_eq!(v["summary"]["indirectly_lost"]["bytes"], 8);
}

#[test]
fn bad_input_and_usage() {
    let p = temp("bad.trace", "p = malloc 8\nstore p+2\n");
    let o = vmsim(&["memcheck", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        err.trim(),
        format!(
            "vmsim: {}:2: expected `store PTR LEN` or `store PTR = VALUE`",
            p.display()
        )
    );
    let o = vmsim(&["memcheck", "/nonexistent/x.trace"]);
    assert_eq!(o.status.code(), Some(1));
    let o = vmsim(&["memcheck", "--mmap-threshold", "lots"]);
    assert_eq!(o.status.code(), Some(2));
    let o = vmsim(&["memcheck", "--frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
    let o = vmsim(&["memcheck", "--help"]);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("vmsim memcheck prog.trace"));
}
