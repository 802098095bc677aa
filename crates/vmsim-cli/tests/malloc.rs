//! Whole-program tests of `vmsim malloc`: exact output for a hand-checked operation list, the
//! comparison table and JSON keys, and exit codes for bad input and bad flags.
use std::io::Write;
use std::process::{Command, Output};

fn vmsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vmsim"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run vmsim")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn temp(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("vmsim-malloc-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::File::create(&p)
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    p.display().to_string()
}

const OPS: &str = "# a small heap session\na = alloc 100\nb = alloc 200\nfree a\nc = alloc 50\n\
free b+8\nfree b\nfree b\nd = alloc 100K\nfree d\n";

#[test]
fn an_operation_list_gives_the_hand_computed_answers() {
    let f = temp("ops.txt", OPS);
    let o = vmsim(&["malloc", &f, "--size", "1K", "--header", "8", "--coalesce"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // a: 100 + 8 = 108 bytes at 0x10000; b: 208 at 0x1006c; c reuses a's chunk (58 of its
    // 108 bytes); freeing b merges it with the 50-byte rest of a's chunk and with the tail.
    let expected = "\
free list, first fit, address order, coalescing, header 8, align none: 1024 bytes at 0x10000; 9 operations
    2  a = alloc 100        -> 0x10008 (block 0x10000+108, 8 waste), 1 searched
    3  b = alloc 200        -> 0x10074 (block 0x1006c+208, 8 waste), 1 searched
    4  free a               -> freed 0x10000+108
    5  c = alloc 50         -> 0x10008 (block 0x10000+58, 8 waste), 1 searched
    6  free b+8             -> refused: invalid free of 0x1007c: inside the block whose pointer is 0x10074
    7  free b               -> freed 0x1006c+208, 2 merges
    8  free b               -> refused: double free of 0x10074
    9  d = alloc 102400     -> failed: nothing large enough, 1 searched
   10  free d               -> free(NULL): nothing to do
allocations     4 (1 failed)
frees           2 (2 refused)
search steps    1.00 per allocation (max 1)
external frag   0.000 at the end (peak 0.132, mean 0.029)
internal waste  8 bytes at the end (13.8% of live bytes; peak 16)
free list       1 blocks, 966 bytes free, largest 966
live            1 blocks, 50 bytes asked for, 58 bytes used; metadata 0
";
    assert_eq!(stdout(&o), expected);
}

#[test]
fn explain_prints_the_heap_map_and_free_list() {
    let f = temp("buddy.txt", "a = alloc 100\nb = alloc 200\nfree a\n");
    let o = vmsim(&[
        "malloc",
        &f,
        "--size",
        "1K",
        "--allocator",
        "buddy",
        "--explain",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = stdout(&o);
    // 100 bytes take a 128-byte block, the split leaves 128, 256 and 512 free.
    assert!(
        s.contains(
            "heap  [0x10000 a:100/128] [0x10080 free:128] [0x10100 free:256] [0x10200 free:512]"
        ),
        "{s}"
    );
    assert!(
        s.contains("free list (3): 0x10080+128 0x10100+256 0x10200+512"),
        "{s}"
    );
    // Freeing a merges it with its buddy at 0x10080.
    assert!(s.contains("free list (2): 0x10000+256 0x10200+512"), "{s}");
}

#[test]
fn a_bad_line_names_the_file_and_line() {
    let f = temp("bad.txt", "a = alloc 10\n\nfree a\nb = malloc 3\n");
    let o = vmsim(&["malloc", &f]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.starts_with(&format!("vmsim: {f}:4: expected")), "{e}");
    assert_eq!(e.lines().count(), 1);
    let o = vmsim(&["malloc", &temp("undef.txt", "free q\n")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("undef.txt:1: `q` was never assigned"));
    let o = vmsim(&["malloc", "/nonexistent/ops.txt"]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn bad_flags_are_usage_errors() {
    for args in [
        &["malloc", "--fit", "nearest"][..],
        &["malloc", "--sizes", "uniform:9-1"],
        &["malloc", "--compare", "freelist:nearest"],
        &["malloc", "--compare", "buddy:best"],
        &["malloc", "--allocator", "buddy", "--min-block", "24"],
        &["malloc", "--allocator", "slab", "--size", "1000"],
        &["malloc", "--allocator", "segregated", "--classes", "64,32"],
        &["malloc", "--alloc-fraction", "1.5"],
        &["malloc", "--compare", "--explain"],
    ] {
        let o = vmsim(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn compare_runs_every_allocator_on_one_workload() {
    let o = vmsim(&["malloc", "--compare", "--ops", "300", "--seed", "5"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = stdout(&o);
    let rows: Vec<&str> = s.lines().skip(2).collect();
    let names: Vec<&str> = rows
        .iter()
        .map(|r| r.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(names, ["freelist:first", "segregated", "buddy", "slab"]);
    // The same workload: the same number of allocations in every row.
    let allocs: Vec<&str> = rows
        .iter()
        .map(|r| r.split_whitespace().nth(1).unwrap())
        .collect();
    assert!(allocs.iter().all(|a| *a == allocs[0]), "{s}");

    let o = vmsim(&[
        "malloc",
        "--compare",
        "freelist:best,buddy",
        "--ops",
        "300",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let all = v["allocators"].as_object().unwrap();
    assert_eq!(all.keys().collect::<Vec<_>>(), ["buddy", "freelist:best"]);
    for (name, a) in all {
        let s = &a["summary"];
        for k in [
            "failures",
            "steps_per_alloc",
            "external_fragmentation",
            "internal_waste",
            "free_list_length",
            "allocs",
        ] {
            assert!(s[k].is_number(), "{name}: {k}");
        }
        assert_eq!(s["ops"], 300);
    }
    // The buddy rounds every request to a power of two: internal waste is never zero.
    assert!(all["buddy"]["summary"]["internal_waste"].as_u64().unwrap() > 0);
    assert_eq!(all["freelist:best"]["summary"]["internal_waste"], 0);
    assert_eq!(v["workload"]["generated"]["ops"], 300);
}

#[test]
fn json_reports_every_step_and_the_slab_caches() {
    let f = temp(
        "slab.txt",
        "a = alloc 20\nb = alloc 20\nfree a\nc = alloc 30\nfree b\nfree b\nfree a\n",
    );
    let o = vmsim(&["malloc", &f, "--allocator", "slab", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["allocator"], "slab");
    let steps = v["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 7);
    // The freed 32-byte object is the one c gets back.
    assert_eq!(steps[3]["result"]["ptr"], steps[0]["result"]["ptr"]);
    assert_eq!(steps[3]["result"]["block"]["size"], 32);
    assert_eq!(steps[5]["result"]["error"]["error"], "double_free");
    // A stale pointer to a reused object frees its new owner, as in a real allocator.
    assert_eq!(steps[6]["result"]["freed"], true);
    assert_eq!(steps[0]["after"]["live_blocks"], 1);
    assert!(steps[0]["after"]["metadata_bytes"].as_u64().unwrap() > 0);
    let caches = v["caches"].as_array().unwrap();
    let c32 = caches.iter().find(|c| c["object_size"] == 32).unwrap();
    assert_eq!(
        (c32["live_objects"].as_u64(), c32["reused"].as_u64()),
        (Some(0), Some(1))
    );
    assert_eq!(c32["empty"], 1);
    assert_eq!(v["summary"]["bad_frees"], 1);
}

#[test]
fn generated_workloads_are_seeded() {
    let a = vmsim(&["malloc", "--ops", "200", "--seed", "1", "--json"]);
    let b = vmsim(&["malloc", "--ops", "200", "--seed", "1", "--json"]);
    let c = vmsim(&["malloc", "--ops", "200", "--seed", "2", "--json"]);
    assert!(a.status.success());
    assert_eq!(a.stdout, b.stdout);
    assert_ne!(a.stdout, c.stdout);
}

#[test]
fn help_has_an_example() {
    let o = vmsim(&["malloc", "--help"]);
    assert!(o.status.success());
    assert!(stdout(&o).contains("vmsim malloc --compare"));
}
