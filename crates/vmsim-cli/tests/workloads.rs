//! `vmsim gen`, the page-number formats, `vmsim mrc` with a policy grid and `vmsim ws`: exact
//! results on streams whose answers are known, the same answers whatever the format, and bad
//! input.
use std::path::PathBuf;
use std::process::{Command, Output};

fn vmsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vmsim"))
        .args(args)
        .output()
        .expect("run vmsim")
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("vmsim-workloads-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("tmp dir");
    d
}

fn path(name: &str) -> String {
    dir().join(name).to_str().expect("utf-8").to_string()
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_str(&ok(o)).expect("json")
}

#[test]
fn gen_writes_the_same_stream_in_every_format() {
    let spec = "0.7*zipf:pages=300,alpha=0.9,writes=0.2 + 0.3*seq:base=5000";
    let mut cells = Vec::new();
    for ext in ["pages", "pgt", "vmt", "txt"] {
        let p = path(&format!("mix.{ext}"));
        ok(&vmsim(&["gen", spec, "-n", "20k", "--seed", "9", "-o", &p]));
        let v = json(&vmsim(&[
            "policy",
            &p,
            "--policy",
            "lru,clock,opt",
            "--frames",
            "50,200",
            "--json",
        ]));
        assert_eq!(v["accesses"], 20_000, "{ext}");
        cells.push(v["results"].clone());
    }
    assert!(cells.windows(2).all(|w| w[0] == w[1]), "{cells:?}");
    let writebacks: u64 = cells[0]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["dirty_evictions"].as_u64().unwrap())
        .sum();
    assert!(writebacks > 0, "writes=0.2 makes dirty pages");
    // A different seed gives a different stream.
    let p = path("mix2.pgt");
    ok(&vmsim(&[
        "gen", spec, "-n", "20k", "--seed", "10", "-o", &p,
    ]));
    let v = json(&vmsim(&[
        "policy",
        &p,
        "--policy",
        "lru,clock,opt",
        "--frames",
        "50,200",
        "--json",
    ]));
    assert_ne!(v["results"], cells[0]);
}

#[test]
fn a_loop_one_page_larger_than_memory_always_misses_under_lru() {
    let p = path("loop.pgt");
    ok(&vmsim(&["gen", "loop:pages=11", "-n", "1100", "-o", &p]));
    let v = json(&vmsim(&[
        "mrc",
        &p,
        "--sizes",
        "10,11",
        "--policy",
        "fifo,clock,mru",
        "--json",
    ]));
    let rows = v["curve"].as_array().unwrap();
    assert_eq!(
        v["curves"],
        serde_json::json!(["lru", "opt", "fifo", "clock", "mru"])
    );
    assert_eq!(rows[0]["lru"], 1.0);
    assert_eq!(rows[0]["fifo"], 1.0);
    assert_eq!(rows[0]["clock"], 1.0);
    // OPT keeps nine of the ten frames useful: one miss per 10 references after warm-up.
    let opt = rows[0]["opt"].as_f64().unwrap();
    assert!((opt - (11.0 + 109.0) / 1100.0).abs() < 0.002, "{opt}");
    // MRU evicts the page just used, which the loop needs last.
    assert!(rows[0]["mru"].as_f64().unwrap() < 0.15);
    for c in ["lru", "opt", "fifo", "clock", "mru"] {
        assert_eq!(rows[1][c], 0.01, "{c}: only the 11 cold misses");
    }
}

#[test]
fn working_sets_of_moving_phases() {
    let p = path("phases.pages");
    ok(&vmsim(&[
        "gen",
        "phases:ws=20,len=1000,shift=20",
        "-n",
        "5000",
        "-o",
        &p,
    ]));
    let svg = path("ws.svg");
    let v = json(&vmsim(&[
        "ws",
        &p,
        "--window",
        "200",
        "--frames",
        "20,39",
        "--taus",
        "1,200",
        "--json",
        "--svg-time",
        &svg,
    ]));
    assert_eq!(v["footprint"], 100);
    assert_eq!(v["references"], 5000);
    assert_eq!(v["mean_size"][0]["mean"], 1.0);
    // Inside a phase a 200-reference window holds all 20 pages; across a change it holds
    // pages of two phases, so the peak is more than 20 but at most 40.
    let peak = v["peak_size_at_window"].as_u64().unwrap();
    assert!((21..=40).contains(&peak), "{peak}");
    let over20 = v["thrashing"][0]["fraction_over"].as_f64().unwrap();
    assert!(over20 > 0.0 && over20 < 0.25, "{over20}");
    assert_eq!(v["reuse"]["cold"], 100);
    let reused: u64 = v["reuse"]["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["count"].as_u64().unwrap())
        .sum();
    assert_eq!(reused, 4900);
    assert!(std::fs::read_to_string(&svg).unwrap().starts_with("<svg"));
}

/// `ws` streams its trace and reads it a second time for the size-over-time points; from a
/// pipe it reads a copy, and the answers are the file's.
#[test]
fn working_sets_from_a_pipe_equal_those_from_the_file() {
    let p = path("phases-pipe.pgt");
    ok(&vmsim(&[
        "gen",
        "phases:ws=30,len=700,shift=10",
        "-n",
        "4000",
        "-o",
        &p,
    ]));
    let args = ["--window", "100", "--points", "9", "--json"];
    let mut from_file = json(&vmsim(&[&["ws", &p][..], &args[..]].concat()));
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_vmsim"))
        .args([&["ws", "-"][..], &args[..]].concat())
        .stdin(std::fs::File::open(&p).unwrap())
        .output()
        .unwrap();
    let mut from_pipe = json(&o);
    assert_eq!(from_pipe["trace"], "<stdin>");
    from_file["trace"] = serde_json::Value::Null;
    from_pipe["trace"] = serde_json::Value::Null;
    assert_eq!(from_file["over_time"].as_array().unwrap().len(), 9);
    assert_eq!(from_file, from_pipe);
}

#[test]
fn bad_input_gets_one_line_and_the_right_code() {
    let cases: [(&[&str], i32, &str); 7] = [
        (&["gen", "zipf:alpha=1"], 2, "needs pages=N"),
        (&["gen", "seq", "-n", "ten"], 2, "not a count"),
        (
            &["policy", "--policy", "belady"],
            2,
            "unknown policy `belady`",
        ),
        (&["policy", "--frames", "0"], 2, "at least 1"),
        (&["mrc", "--sizes", "0"], 2, "--sizes"),
        (&["ws", "--window", "0"], 2, "--window"),
        (&["ws", "/nonexistent.pgt"], 1, "/nonexistent.pgt"),
    ];
    for (args, code, text) in cases {
        let o = vmsim(args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(code), "{args:?}: {err}");
        // The message is on the first line (clap adds a hint line after its own errors).
        let first = err.lines().next().unwrap_or("");
        assert!(first.contains(text), "{args:?}: {err}");
    }
    // A page-number trace with a bad line, a truncated binary one, an empty one.
    let bad = path("bad.pages");
    std::fs::write(&bad, "1\n2 w\nx3\n").unwrap();
    let o = vmsim(&["policy", &bad]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1));
    assert!(err.contains("bad.pages:3:"), "{err}");
    let cut = path("cut.pgt");
    std::fs::write(&cut, b"VMSIMPG1\x02\0\0\0\0\0\0\0\x04\0").unwrap();
    let err = String::from_utf8_lossy(&vmsim(&["mrc", &cut]).stderr).into_owned();
    assert!(
        err.contains("record 1 (byte 16): record cut short"),
        "{err}"
    );
    let empty = path("empty.pages");
    std::fs::write(&empty, "# nothing\n").unwrap();
    let o = vmsim(&["ws", &empty]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no accesses"));
}

#[test]
fn pagetable_of_a_sparse_64_bit_space() {
    let v = json(&vmsim(&[
        "pagetable",
        "--vmas",
        "0x400000+2M,0x2000000+8M,0x7f0000000000+16M,0x7ffffff00000+1M",
        "--json",
    ]));
    assert_eq!(v["space"]["pages"], 512 + 2048 + 4096 + 256);
    // The linear table needs an entry for each of 2^36 pages: 512 GiB.
    assert_eq!(v["linear"]["bytes"], 512u64 << 30);
    // Radix: the root; three PDPTs and three PDs (the two low regions share one of each, the
    // two high ones sit under different PML4 entries); 1 + 4 + 8 + 1 page tables for 2 MiB,
    // 8 MiB, 16 MiB (at 254 TiB) and 1 MiB: 21 tables of 4 KiB.
    assert_eq!(v["radix"]["bytes"], 21 * 4096);
    assert_eq!(v["radix"]["refs_per_translation"], 4.0);
    for org in ["inverted", "hashed", "clustered"] {
        let bytes = v[org]["bytes"].as_u64().unwrap();
        assert!(bytes < 1 << 20, "{org}: {bytes}");
        assert!(v[org]["refs_per_translation"].as_f64().unwrap() >= 2.0);
    }
    let o = vmsim(&["pagetable", "--vmas", "0x1000-0x1000"]);
    assert_eq!(o.status.code(), Some(2));
    let o = vmsim(&["pagetable", "--levels", "9,9,9"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("27 index bits + 12 offset bits != 48"));
}
