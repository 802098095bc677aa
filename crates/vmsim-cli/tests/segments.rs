//! Whole-program tests of `vmsim segments`: exact maps and compaction costs for hand-written
//! runs under segmentation and base and bounds, shared segments, seeded runs, and bad input.
mod common;
use common::{json, temp, vmsim};

/// (start, size, owner) of each map region; owner "free", "A.code" or "A".
fn map(v: &serde_json::Value, names: &[&str]) -> Vec<(u64, u64, String)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let owner = match r["owner"].as_object() {
                None => "free".to_string(),
                Some(o) => {
                    let mut who = vec![holder(o, names)];
                    for s in r["sharers"].as_array().unwrap() {
                        who.push(holder(s.as_object().unwrap(), names));
                    }
                    who.join("+")
                }
            };
            (
                r["start"].as_u64().unwrap(),
                r["size"].as_u64().unwrap(),
                owner,
            )
        })
        .collect()
}

/// `A.code`, or `A` for a whole address space.
fn holder(o: &serde_json::Map<String, serde_json::Value>, names: &[&str]) -> String {
    let p = names[o["pid"].as_u64().unwrap() as usize];
    match o["seg"].as_u64() {
        Some(s) => format!("{p}.{}", ["code", "heap", "data", "stack"][s as usize]),
        None => p.to_string(),
    }
}

fn row(start: u64, size: u64, owner: &str) -> (u64, u64, String) {
    (start, size, owner.to_string())
}

#[test]
fn fits_differ_and_compaction_copies_what_moves() {
    // 16 KiB: A code 2K at 0, A heap 3K at 2K, B code 4K at 5K, A stack 1K at 9K; A's heap freed
    // leaves holes of 3K (at 2K) and 6K (at 10K). C's 2.5K code goes to 2K under first and best
    // fit, to 10K under worst fit.
    let ops = "A.code=2K,A.heap=3K,B.code=4K,A.stack=1K,-A.heap,C.code=2560";
    let run = |fit: &str| {
        json(&vmsim(&[
            "segments",
            "--ops",
            ops,
            "--memory",
            "16K",
            "--fit",
            fit,
            "--compact",
            "--json",
        ]))
    };
    let names = ["A", "B", "C"];
    for (fit, at) in [("first", 2048), ("best", 2048), ("worst", 10240)] {
        let v = run(fit);
        assert_eq!(v["operations"][5]["result"]["start"], at, "{fit}");
    }
    let v = run("worst");
    assert_eq!(
        map(&v["map"], &names),
        [
            row(0, 2048, "A.code"),
            row(2048, 3072, "free"),
            row(5120, 4096, "B.code"),
            row(9216, 1024, "A.stack"),
            row(10240, 2560, "C.code"),
            row(12800, 3584, "free"),
        ]
    );
    // 1 - 3584 / 6656.
    let f = v["fragmentation"].as_f64().unwrap();
    assert!((f - (1.0 - 3584.0 / 6656.0)).abs() < 1e-9, "{f}");
    // Compaction moves B code, A stack and C code down by 3K each: 4096 + 1024 + 2560 bytes.
    let c = &v["compaction"];
    assert_eq!(c["bytes_copied"], 7680);
    assert_eq!(c["fragmentation"], 0.0);
    assert_eq!(
        map(&c["map"], &names),
        [
            row(0, 2048, "A.code"),
            row(2048, 4096, "B.code"),
            row(6144, 1024, "A.stack"),
            row(7168, 2560, "C.code"),
            row(9728, 6656, "free"),
        ]
    );
    // A A B A A C: four switches of 8 registers (2 per segment), three with a save.
    assert_eq!(
        v["context_switches"],
        serde_json::json!({"switches": 4, "register_saves": 24, "register_restores": 32})
    );
    let text = String::from_utf8(
        vmsim(&[
            "segments", "--ops", ops, "--memory", "16K", "--fit", "worst", "--width", "16",
        ])
        .stdout,
    )
    .unwrap();
    // One character per KiB, showing the owner of its middle byte (C ends at 12800).
    assert!(text.contains("|AA...BBBBACC....|"), "{text}");
}

#[test]
fn base_and_bounds_counts_the_unused_middle() {
    let v = json(&vmsim(&[
        "segments",
        "--base-bounds",
        "--asize",
        "4K",
        "--memory",
        "12K",
        "--ops",
        "A.code=1K,B.code=512,B.stack=256,C.code=100,-A,-C.code",
        "--compact",
        "--json",
    ]));
    let names = ["A", "B", "C"];
    assert_eq!(
        map(&v["map"], &names),
        [
            row(0, 4096, "free"),
            row(4096, 4096, "B"),
            row(8192, 4096, "C")
        ]
    );
    let internal: Vec<(String, u64)> = v["internal_fragmentation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["process"].as_str().unwrap().to_string(),
                i["bytes"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(internal, [("B".to_string(), 3328), ("C".to_string(), 4096)]);
    // Moving B and C copies both whole address spaces, unused middles included.
    assert_eq!(v["compaction"]["bytes_copied"], 8192);
    // A B B C A C: switches to A, B, C, A, C with 2 registers; after A exits nothing is saved.
    assert_eq!(
        v["context_switches"],
        serde_json::json!({"switches": 5, "register_saves": 6, "register_restores": 10})
    );
}

#[test]
fn shared_segments_outlive_their_owner_and_move_once() {
    // A heap 1K at 0, A code 2K at 1K; B shares it read-execute, C read-only; C asking A's heap
    // writable and executable is refused; A exits: the code stays for B and C.
    let ops = "A.heap=1K,A.code=2K,B.code=A.code,C.code=A.code:r--,C.heap=A.heap:rwx,-A";
    let v = json(&vmsim(&["segments", "--ops", ops, "--compact", "--json"]));
    let names = ["A", "B", "C"];
    let results: Vec<&str> = v["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["result"]["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        results,
        [
            "placed",
            "placed",
            "shared",
            "shared",
            "wider_than_owner",
            "freed"
        ]
    );
    assert_eq!(
        v["operations"][3]["result"]["prot"],
        serde_json::json!({"read": true, "write": false, "exec": false})
    );
    assert_eq!(
        map(&v["map"], &names),
        [
            row(0, 1024, "free"),
            row(1024, 2048, "B.code+C.code"),
            row(3072, 13312, "free"),
        ]
    );
    // The shared region moves once: 2048 bytes, both base registers rewritten.
    let c = &v["compaction"];
    assert_eq!(c["bytes_copied"], 2048);
    assert_eq!(
        c["moves"],
        serde_json::json!([{"process": "B", "segment": "code", "from": 1024, "to": 0, "bytes": 2048,
            "sharers": [{"process": "C", "segment": "code"}]}])
    );
    assert_eq!(
        map(&c["map"], &names),
        [row(0, 2048, "B.code+C.code"), row(2048, 14336, "free")]
    );
    let text = String::from_utf8(vmsim(&["segments", "--ops", ops]).stdout).unwrap();
    assert!(
        text.contains("0x400    0xc00     2048  B code, shared with C code"),
        "{text}"
    );
}

#[test]
fn an_ops_file_names_the_bad_line() {
    let good = temp(
        "share.ops",
        "A.code=2K\n# B runs A's program\nB.code=A.code\n-A.code\n",
    );
    let v = json(&vmsim(&[
        "segments",
        "--ops-file",
        good.to_str().unwrap(),
        "--json",
    ]));
    assert_eq!(
        map(&v["map"], &["A", "B"]),
        [row(0, 2048, "B.code"), row(2048, 14336, "free")]
    );
    assert_eq!(v["operations"][2]["result"]["outcome"], "unshared");
    assert_eq!(v["operations"][2]["result"]["holders"], 1);
    for (text, msg) in [
        ("A.code=2K\nB.code=A.code:r-q\n", "2: protection `r-q`"),
        (
            "A.code=2K\n\n# x\nB.code=A.text\n",
            "4: `text` is not a segment",
        ),
    ] {
        let bad = temp("bad.ops", text);
        let o = vmsim(&["segments", "--ops-file", bad.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(1));
        let err = String::from_utf8_lossy(&o.stderr);
        let want = format!("vmsim: {}:{msg}", bad.display());
        assert!(err.starts_with(&want), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

#[test]
fn seeded_runs_repeat_and_bad_input_is_rejected() {
    let a = vmsim(&["segments", "--seed", "5", "--json"]);
    let b = vmsim(&["segments", "--seed", "5", "--json"]);
    assert_eq!(json(&a), json(&b));
    assert_eq!(json(&a)["operations"].as_array().unwrap().len(), 24);
    for bad in [
        vec!["segments", "--ops", "A.text=1K"],
        vec!["segments", "--ops", "A.code=5K", "--va-bits", "14"],
        vec!["segments", "--fit", "next"],
        vec!["segments", "--memory", "0"],
        vec!["segments", "--procs", "30"],
        vec!["segments", "--steps", "2000000"],
        vec!["segments", "--ops", "A.code=1K", "--seed", "3"],
    ] {
        let o = vmsim(&bad);
        assert_eq!(o.status.code(), Some(2), "{bad:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.starts_with("vmsim: ") || err.starts_with("error: "),
            "{err}"
        );
    }
    let o = vmsim(&["segments", "--help"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("vmsim segments --fit best"));
}
