//! Whole-program tests of `vmsim run`, `explain` and `presets`: exact output where the model is
//! deterministic, exit codes and one-line errors for bad input.
mod common;
use common::{stderr, stdout, temp, vmsim};

#[test]
fn run_on_the_built_in_trace_reports_stable_json_keys() {
    let o = vmsim(&["run", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let acc = v["accesses"].as_u64().unwrap();
    assert!(acc > 100_000, "the built-in trace is a real program: {acc}");
    for level in ["l1d", "l1i", "l2"] {
        let h = v["tlb"][level]["hits"].as_u64().unwrap();
        let m = v["tlb"][level]["misses"].as_u64().unwrap();
        assert!(h + m > 0, "{level}");
    }
    // Every L1 lookup is a hit or a miss; retries after faults look up again.
    let l1 = v["tlb"]["l1d"]["hits"].as_u64().unwrap()
        + v["tlb"]["l1d"]["misses"].as_u64().unwrap()
        + v["tlb"]["l1i"]["hits"].as_u64().unwrap()
        + v["tlb"]["l1i"]["misses"].as_u64().unwrap();
    let faults = v["faults"]["total"].as_u64().unwrap();
    assert_eq!(l1, acc + faults);
    assert!(v["walks"].as_u64().unwrap() > 0);
    assert!(v["walk_memory_refs"].as_u64().unwrap() >= v["walks"].as_u64().unwrap());
    assert!(v["pwc_hits"].is_u64());
    // Every write first touch zero-fills a page of RSS; read first touches map the shared zero
    // page and allocate nothing (nothing is reclaimed on the default machine).
    let demand_zero = v["faults"]["demand_zero"].as_u64().unwrap();
    assert!(demand_zero < v["faults"]["total"].as_u64().unwrap());
    assert_eq!(
        v["process_memory"][0]["rss_anon_kib"].as_u64().unwrap(),
        demand_zero * 4
    );
    for k in ["pml5", "pml4", "pdpt", "pd", "pt"] {
        assert!(v["page_table_pages"][k].is_u64(), "{k}");
    }
    assert_eq!(v["page_table_pages"]["pml4"], 1);
    assert_eq!(v["page_table_pages"]["pml5"], 0);
    // Deterministic: the same run gives the same JSON.
    let again = vmsim(&["run", "--json"]);
    assert_eq!(o.stdout, again.stdout);
}

#[test]
fn run_text_summary_names_the_machine() {
    let o = vmsim(&["run", "--preset", "skylake", "--limit", "1000"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = stdout(&o);
    assert!(s.contains("machine skylake"), "{s}");
    assert!(s.contains("page walks"), "{s}");
}

#[test]
fn explain_narrates_a_fault_then_a_hit() {
    let o = vmsim(&["explain", "0x7ffd5c3e1a28", "0x7ffd5c3e1a30"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = stdout(&o);
    assert!(
        s.contains("PML4 index 255, PDPT index 501, PD index 225, PT index 481, offset 0xa28"),
        "{s}"
    );
    assert!(s.contains("PAGE FAULT: PML4E not present"), "{s}");
    assert!(
        s.contains("zero page") && s.contains("mapped read-only at 0x7ffd5c3e1000"),
        "a read of untouched memory maps the zero page: {s}"
    );
    let second = s.split("access 2:").nth(1).unwrap();
    assert!(second.contains("L1 data TLB: HIT"), "{second}");
    assert!(!second.contains("page walk"), "{second}");
}

#[test]
fn explain_json_lists_walk_reads() {
    let o = vmsim(&["explain", "0x1000", "--json", "--write"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let ev = v["accesses"][0]["events"].as_array().unwrap();
    let reads = ev.iter().filter(|e| e["event"] == "walk_read").count();
    // First walk faults at the empty PML4 (1 read); the retry reads all four levels.
    assert_eq!(reads, 1 + 4);
    assert!(ev.iter().any(|e| e["event"] == "resolved"));
}

#[test]
fn explain_on_the_teaching_machine_uses_its_geometry() {
    let o = vmsim(&["explain", "0x1234", "--preset", "teaching"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = stdout(&o);
    // 16-bit address, 6 offset bits, 5 + 5 index bits: 0x1234 = 00010 01000 110100.
    assert!(s.contains("L2 index 2, L1 index 8, offset 0x34"), "{s}");
}

#[test]
fn presets_list_and_show_round_trip() {
    let o = vmsim(&["presets"]);
    assert!(o.status.success());
    let s = stdout(&o);
    for p in ["zen4", "skylake", "teaching"] {
        assert!(s.contains(p), "{s}");
    }
    let show = vmsim(&["presets", "--show", "skylake"]);
    assert!(show.status.success());
    let path = temp("sky.toml", &stdout(&show));
    let o = vmsim(&["explain", "0x1000", "--config", path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("machine skylake"));
}

/// What `vmsim explain` says of a configuration file it must refuse: exit 1, one line.
fn config_error(file: &str, text: &str) -> String {
    let path = temp(file, text);
    let o = vmsim(&["explain", "0x1000", "--config", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    assert_eq!(e.lines().count(), 1, "{e}");
    e
}

#[test]
fn bad_configs_give_one_line_errors_with_file_and_line() {
    let e = config_error("bad.toml", "name = \"x\"\n[mmu]\npcid = \"maybe\"\n");
    assert!(e.contains("bad.toml:3:"), "{e}");

    let e = config_error(
        "sets.toml",
        "name = \"x\"\n[mmu.l1d]\narrays = [{ sets = 3, ways = 4, page_sizes = [\"4K\"], replacement = \"lru\" }]\n",
    );
    assert!(
        e.contains("sets.toml:3: sets = 3 is not a power of two"),
        "{e}"
    );

    let e = config_error(
        "ways.toml",
        "name = \"x\"\n[mmu.l1d]\narrays = [{ sets = 4, ways = 0, page_sizes = [\"4K\"], replacement = \"lru\" }]\n",
    );
    assert!(e.contains("ways.toml:3: ways must be at least 1"), "{e}");

    // A page-walk cache too large to allocate is refused, not attempted.
    let e = config_error("pwc.toml", "name = \"x\"\n[mmu.pwc]\npde = 4000000000\n");
    assert!(
        e.contains("pwc.toml:3: 4000000000 entries is more than"),
        "{e}"
    );
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(vmsim(&["run", "--preset", "vax"]).status.code(), Some(2));
    assert_eq!(vmsim(&["explain"]).status.code(), Some(2));
    assert_eq!(vmsim(&["explain", "0xZZ"]).status.code(), Some(2));
    assert_eq!(vmsim(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(vmsim(&["presets", "--show", "vax"]).status.code(), Some(2));
}

#[test]
fn malformed_traces_name_file_and_line() {
    let t = temp("bad.txt", "R 0x1000\nW 0x2000\nR 0xnothex\n");
    let o = vmsim(&["run", t.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(e.contains("bad.txt:3"), "{e}");
    let missing = vmsim(&["run", "/nonexistent/trace.vmt"]);
    assert_eq!(missing.status.code(), Some(1));
}

#[test]
fn non_canonical_addresses_in_traces_are_malformed_input() {
    let t = temp("nc.txt", "R 0x1000\nR 0x0000800000000000\n");
    let o = vmsim(&["run", t.to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains("nc.txt:2: address 0x800000000000 is not canonical for 48-bit"),
        "{e}"
    );
    assert!(o.stdout.is_empty());
    // The same address is canonical under 5-level paging.
    let o = vmsim(&["run", t.to_str().unwrap(), "--json", "--paging", "5-level"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["page_table_pages"]["pml5"], 1);
}

#[test]
fn explain_shows_a_non_canonical_address_raising_gp() {
    let o = vmsim(&["explain", "0x0000800000000000"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = stdout(&o);
    assert!(
        s.contains("not canonical for 48-bit addresses (#GP)"),
        "{s}"
    );
    assert!(s.contains("SIGSEGV"), "{s}");
}

#[test]
fn convert_round_trips_and_reports_errors() {
    let txt = temp("conv.txt", "W 0x1000 8\nX 0x401000 4 pid=2 cpu=1\n0x2000\n");
    let dir = txt.parent().unwrap();
    let vmt = dir.join("conv.vmt");
    let o = vmsim(&["convert", txt.to_str().unwrap(), vmt.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("converted 3 records from text to vmt"));
    let back = vmsim(&["convert", vmt.to_str().unwrap(), "-", "--to", "text"]);
    assert_eq!(
        stdout(&back),
        "W 0x1000 8\nX 0x401000 4 pid=2 cpu=1\n0x2000\n"
    );
    let o = vmsim(&[
        "convert",
        txt.to_str().unwrap(),
        dir.join("x.unknown").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let bad = temp("conv-bad.lackey", "I  0401ab70,3\n Q 10,4\n");
    let o = vmsim(&["convert", bad.to_str().unwrap(), vmt.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("conv-bad.lackey:2: not a lackey record"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn thrash_shows_the_knee() {
    let o = vmsim(&["thrash", "--working-set", "1024", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let pts = v["points"].as_array().unwrap();
    let major = |pct: u64| {
        pts.iter().find(|p| p["ram_percent"] == pct).unwrap()["major_faults"]
            .as_u64()
            .unwrap()
    };
    // Half the working set in RAM: most accesses of a random order fault.
    assert!(major(50) > 4 * 1024 * 4 / 10, "{}", major(50));
    // Major faults fall as RAM grows, and stop once the working set fits.
    assert!(major(50) > major(80) && major(80) > major(100));
    assert_eq!(major(120), 0);
    assert_eq!(vmsim(&["thrash", "--passes", "1"]).status.code(), Some(2));
}

#[test]
fn the_kernel_reclaims_with_policies_of_replace() {
    // Before the kernel reclaimed through replace/, it knew only fifo, lru, clock and two-list.
    for policy in ["arc", "sieve", "mglru", "s3fifo", "linux"] {
        let o = vmsim(&[
            "run", "--ram", "200K", "--swap", "4M", "--policy", policy, "--json",
        ]);
        assert!(o.status.success(), "{policy}: {}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let name = if policy == "linux" {
            "two-list"
        } else {
            policy
        };
        assert_eq!(v["reclaim"]["policy"], name);
        assert!(v["reclaim"]["stolen"].as_u64().unwrap() > 0, "{policy}");
        assert_eq!(v["oom_kills"], 0, "{policy}");
    }
    let o = vmsim(&[
        "thrash",
        "--working-set",
        "512",
        "--passes",
        "3",
        "--policy",
        "arc",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn an_8t_swap_device_swaps_like_a_small_one() {
    // The device hands out slots as they are used: 2^31 slots used to abort at start.
    let run = |swap: &str| {
        let o = vmsim(&["run", "--ram", "200K", "--swap", swap, "--json"]);
        assert!(o.status.success(), "{swap}: {}", stderr(&o));
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()
    };
    let (small, huge) = (run("4M"), run("8T"));
    assert_eq!(huge["swap"]["total_pages"], 1u64 << 31);
    assert!(huge["swap"]["outs"].as_u64().unwrap() > 0);
    for key in ["ins", "outs", "used_pages"] {
        assert_eq!(small["swap"][key], huge["swap"][key], "{key}");
    }
}

#[test]
fn memory_pressure_flags_and_kernel_keys() {
    let o = vmsim(&[
        "run", "--ram", "200K", "--swap", "4M", "--policy", "lru", "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["kernel"], "linux");
    for k in ["minor", "major", "cow", "segv"] {
        assert!(v["faults"][k].is_u64(), "{k}");
    }
    assert!(v["faults"]["major"].as_u64().unwrap() > 0);
    assert_eq!(v["swap"]["ins"], v["faults"]["major"]);
    assert!(v["swap"]["outs"].as_u64().unwrap() > 0);
    assert_eq!(v["oom_kills"], 0);
    // Without swap the process is killed and the rest of its trace fails.
    let o = vmsim(&["run", "--ram", "200K", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["oom_kills"], 1);
    assert!(v["faults"]["segv"].as_u64().unwrap() > 0);
    // OPT needs the future; an unknown name is no policy.
    assert_eq!(vmsim(&["run", "--policy", "opt"]).status.code(), Some(2));
    assert_eq!(vmsim(&["run", "--policy", "nope"]).status.code(), Some(2));
    assert_eq!(
        vmsim(&["run", "--page-size", "2M", "--kernel", "linux"])
            .status
            .code(),
        Some(2)
    );
    let o = vmsim(&["run", "--page-size", "2M", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["kernel"], "demand-zero");
}

#[test]
fn workload_fork_cow_scenario_and_errors() {
    let ex = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/fork-cow.toml");
    let o = vmsim(&["workload", ex, "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    // 8 MiB written by the parent, 4 MiB of it rewritten by the child: 1024 copies.
    assert_eq!(v["faults"]["cow"], 1024);
    assert_eq!(v["processes"], 1, "the child exited");
    let bad = temp(
        "bad-workload.toml",
        "[[step]]\nop = \"mmap\"\npid = 1\nlen = \"4M\"\nprot = \"rwz\"\n",
    );
    let o = vmsim(&["workload", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.contains("bad-workload.toml:"), "{e}");
    assert!(e.contains("protection `rwz`"), "{e}");
    let segv = temp(
        "unmapped.toml",
        "[[step]]\nop = \"touch\"\npid = 1\nstart = \"0x1000\"\nlen = \"8K\"\n",
    );
    let o = vmsim(&["workload", segv.to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["faults"]["segv"], 2);
}

#[test]
fn workload_with_transparent_huge_pages() {
    let w = temp(
        "thp.toml",
        "[[step]]\nop = \"mmap\"\npid = 1\naddr = \"0x7e0000000000\"\nlen = \"8M\"\nprot = \"rw-\"\n\
         [[step]]\nop = \"madvise\"\npid = 1\naddr = \"0x7e0000000000\"\nlen = \"8M\"\nadvice = \"hugepage\"\n\
         [[step]]\nop = \"touch\"\npid = 1\nstart = \"0x7e0000000000\"\nlen = \"8M\"\n",
    );
    let o = vmsim(&["workload", w.to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["thp"]["allocs"], 4);
    assert_eq!(v["faults"]["minor"], 4);
    // No page table below the huge pages, but one PTE table deposited for each (VmPTE).
    assert_eq!(v["page_table_pages"]["pt"], 4);
}

#[test]
fn ostep_explain_snapshots() {
    let cases: [(&str, &[&str]); 7] = [
        ("malloc", &["-s", "0", "-n", "6", "-C"]),
        ("paging-multilevel-translate", &["-s", "0", "-n", "4"]),
        ("paging-policy", &["-s", "0", "-p", "LRU"]),
        ("relocation", &["-s", "0"]),
        ("segmentation", &["-s", "0"]),
        ("paging-linear-translate", &["-s", "0"]),
        ("paging-linear-size", &["-v", "16", "-p", "1k"]),
    ];
    for (sim, args) in cases {
        let mut a = vec!["ostep", sim];
        a.extend_from_slice(args);
        a.push("--explain");
        let o = vmsim(&a);
        assert!(o.status.success(), "{}", stderr(&o));
        let path = format!(
            "{}/tests/snapshots/ostep-{sim}.txt",
            env!("CARGO_MANIFEST_DIR")
        );
        let want = std::fs::read_to_string(&path).unwrap();
        assert_eq!(stdout(&o), want, "{sim}: output differs from {path}");
    }
}

#[test]
fn ostep_json_errors_and_usage() {
    let o = vmsim(&["ostep", "relocation", "-s", "0", "--json"]);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["problem"]["base"], 12418);
    assert_eq!(v["answers"][0]["pa"], 12848);
    let o = vmsim(&[
        "ostep",
        "relocation",
        "-s",
        "0",
        "-a",
        "16k",
        "-p",
        "16k",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["error"], "psize_not_greater_than_asize");
    assert!(stderr(&o).contains("psize_not_greater_than_asize"));
    // A limit no random base can accommodate would hang the original.
    let o = vmsim(&["ostep", "relocation", "-l", "20k", "--json"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("no_base_fits"));
    // optparse's usage error is exit status 2, as the script's is.
    assert_eq!(vmsim(&["ostep", "relocation", "-x"]).status.code(), Some(2));
    assert_eq!(vmsim(&["ostep", "nosuch"]).status.code(), Some(2));
}

#[test]
fn mrc_curves_are_consistent() {
    let svg = std::env::temp_dir().join(format!("vmsim-mrc-{}.svg", std::process::id()));
    let o = vmsim(&[
        "mrc",
        "--json",
        "--shards",
        "0.5",
        "--svg",
        svg.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let refs = v["references"].as_f64().unwrap();
    let footprint = v["footprint"].as_u64().unwrap();
    let curve = v["curve"].as_array().unwrap();
    let mut prev = f64::INFINITY;
    for p in curve {
        let (lru, opt) = (p["lru"].as_f64().unwrap(), p["opt"].as_f64().unwrap());
        assert!(opt <= lru + 1e-12, "OPT is never worse than LRU");
        assert!(lru <= prev + 1e-12, "the LRU curve never rises");
        prev = lru;
    }
    // With room for the whole footprint only cold misses remain.
    let last = curve.last().unwrap();
    assert_eq!(last["frames"].as_u64().unwrap(), footprint);
    assert!((last["lru"].as_f64().unwrap() - footprint as f64 / refs).abs() < 1e-12);
    assert!(std::fs::read_to_string(&svg).unwrap().starts_with("<svg"));
    assert_eq!(vmsim(&["mrc", "--shards", "2"]).status.code(), Some(2));
    assert_eq!(vmsim(&["mrc", "--sizes", "0"]).status.code(), Some(2));
}

// `vmsim malloc`: exact output for a hand-checked operation list, the comparison table and
// JSON keys, and exit codes for bad input and bad flags.

/// An operation list in a temporary file, as a path string.
fn malloc_file(name: &str, text: &str) -> String {
    temp(name, text).display().to_string()
}

const MALLOC_OPS: &str =
    "# a small heap session\na = alloc 100\nb = alloc 200\nfree a\nc = alloc 50\n\
free b+8\nfree b\nfree b\nd = alloc 100K\nfree d\n";

#[test]
fn malloc_an_operation_list_gives_the_hand_computed_answers() {
    let f = malloc_file("malloc-ops.txt", MALLOC_OPS);
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
free list       length 1, 966 bytes free, largest block 966
live blocks     1, 50 bytes asked for, 58 bytes used; metadata 0
";
    assert_eq!(stdout(&o), expected);
}

#[test]
fn malloc_explain_prints_the_heap_map_and_free_list() {
    let f = malloc_file("malloc-buddy.txt", "a = alloc 100\nb = alloc 200\nfree a\n");
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
fn malloc_a_bad_line_names_the_file_and_line() {
    let f = malloc_file("malloc-bad.txt", "a = alloc 10\n\nfree a\nb = malloc 3\n");
    let o = vmsim(&["malloc", &f]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.starts_with(&format!("vmsim: {f}:4: expected")), "{e}");
    assert_eq!(e.lines().count(), 1);
    let o = vmsim(&["malloc", &malloc_file("malloc-undef.txt", "free q\n")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("malloc-undef.txt:1: `q` was never assigned"));
    let o = vmsim(&["malloc", "/nonexistent/ops.txt"]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn malloc_bad_flags_are_usage_errors() {
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
        &["malloc", "--compare", "buddy,slab,buddy"],
        &["malloc", "--ops", "1000000000000"],
    ] {
        let o = vmsim(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn malloc_compare_runs_every_allocator_on_one_workload() {
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
fn malloc_json_reports_every_step_and_the_slab_caches() {
    let f = malloc_file(
        "malloc-slab.txt",
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
fn malloc_generated_workloads_are_seeded() {
    let a = vmsim(&["malloc", "--ops", "200", "--seed", "1", "--json"]);
    let b = vmsim(&["malloc", "--ops", "200", "--seed", "1", "--json"]);
    let c = vmsim(&["malloc", "--ops", "200", "--seed", "2", "--json"]);
    assert!(a.status.success());
    assert_eq!(a.stdout, b.stdout);
    assert_ne!(a.stdout, c.stdout);
}

#[test]
fn malloc_help_has_an_example() {
    let o = vmsim(&["malloc", "--help"]);
    assert!(o.status.success());
    assert!(stdout(&o).contains("vmsim malloc --compare"));
}

/// `--limit` and `--explain` cut batches (1024 records) anywhere: both counts are exact across
/// a batch boundary, and the narrated prefix is the same accesses, numbered from 1.
#[test]
fn limit_and_explain_are_exact_across_batches() {
    let o = vmsim(&["run", "--json", "--limit", "9000", "--explain", "8193"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["records"], 9000);
    assert_eq!(v["explain"].as_array().unwrap().len(), 8193);
    let t = vmsim(&["run", "--limit", "8200", "--explain", "8193"]);
    let s = stdout(&t);
    assert!(
        s.contains("access 8193: ") && !s.contains("access 8194: "),
        "{}",
        &s[s.len().saturating_sub(500)..]
    );
    assert!(s.starts_with("access 1: "), "{}", &s[..200]);
}

#[test]
fn completions_and_man_pages_come_from_the_cli_definition() {
    for shell in ["bash", "zsh", "fish"] {
        let o = vmsim(&["completions", shell]);
        assert!(o.status.success(), "{shell}: {}", stderr(&o));
        let s = stdout(&o);
        // Every subcommand and a flag deep inside one are offered.
        for word in ["run", "policy", "mrc", "ostep", "swap-readahead"] {
            assert!(s.contains(word), "{shell} completion lacks {word}");
        }
    }
    assert_eq!(vmsim(&["completions", "tcsh"]).status.code(), Some(2));
    let top = stdout(&vmsim(&["man"]));
    assert!(top.contains(".TH vmsim 1"), "{top}");
    assert!(
        top.contains("vmsim\\-run(1)"),
        "the top page lists the subcommands"
    );
    let run = stdout(&vmsim(&["man", "run"]));
    assert!(
        run.contains(".TH vmsim\\-run 1") || run.contains(".TH vmsim-run 1"),
        "{run}"
    );
    assert!(run.contains("swap\\-readahead"));
    let o = vmsim(&["man", "nosuch"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o).lines().count(), 1);
}

#[test]
fn explain_mixes_access_kinds_in_one_call() {
    let o = vmsim(&["explain", "0x601040", "w:0x601040", "x:0x401000", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let kinds: Vec<&str> = v["accesses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["read", "write", "fetch"]);
    // --write is the default of the addresses without a kind of their own.
    let t = stdout(&vmsim(&["explain", "0x1000", "r:0x2000", "--write"]));
    assert!(t.contains("access 1: write of 0x1000"), "{t}");
    assert!(t.contains("access 2: read of 0x2000"), "{t}");
    let o = vmsim(&["explain", "q:0x1000"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("`q` is not an access kind"));
}

#[test]
fn machine_json_gives_addresses_as_hex_strings_and_tags_as_words() {
    // Above 2^53: a JSON number would be rounded by any reader that holds doubles.
    let o = vmsim(&["explain", "0x401000", "w:0xfffffffffff123", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("\"0xfffffffffff123\""), "{text}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let events = v["accesses"][0]["events"].as_array().unwrap();
    assert_eq!(events[0]["va"], "0x401000");
    let fault = events.iter().find(|e| e["event"] == "fault").unwrap();
    assert_eq!(fault["kind"], "walk");
    assert_eq!(fault["walk_fault"], "not_present");
    assert_eq!(fault["level"], "pml4");
    let done = events.iter().find(|e| e["event"] == "done").unwrap();
    assert!(done["pa"].as_str().unwrap().starts_with("0x"));
    // No Rust spellings anywhere: every string and key is lower case, hex or a size.
    assert!(
        !text.contains("NotPresent") && !text.contains("\"Pml4\""),
        "{text}"
    );
}

#[test]
fn every_page_stream_command_takes_the_page_size_as_run_does() {
    for cmd in ["policy", "mrc", "ws"] {
        let words = stdout(&vmsim(&[cmd, "--page-size", "2M"]));
        let bytes = stdout(&vmsim(&[cmd, "--page-size", "2097152"]));
        assert!(!words.is_empty(), "{cmd}");
        assert_eq!(words, bytes, "{cmd}: 2M and 2097152 are one size");
        let o = vmsim(&[cmd, "--page-size", "3K"]);
        assert_eq!(o.status.code(), Some(2), "{cmd}");
        let e = stderr(&o);
        assert!(e.contains("3072 bytes is not a power of two"), "{cmd}: {e}");
    }
}

#[test]
fn flag_ranges_are_the_valid_ones_and_errors_name_the_flag() {
    let o = vmsim(&["run", "--cpus", "300"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("300 is not in 1..=256"),
        "{}",
        stderr(&o)
    );
    for cmd in ["policy", "mrc"] {
        let o = vmsim(&[cmd, "--jobs", "100000"]);
        assert_eq!(o.status.code(), Some(2), "{cmd}");
        let e = stderr(&o);
        assert!(
            e.contains("--jobs") && e.contains("from 1 to 256"),
            "{cmd}: {e}"
        );
    }
}

#[test]
fn usage_errors_are_one_line_naming_what_is_wrong() {
    for (args, says) in [
        (
            vec!["explain"],
            "required arguments were not provided: <[KIND:]ADDR>",
        ),
        (
            vec!["explain", "0x1", "--write", "--fetch"],
            "'--write' cannot be used with '--fetch'",
        ),
        (vec!["run", "--bogus"], "unexpected argument '--bogus'"),
        (vec!["nosuch"], "unrecognized subcommand 'nosuch'"),
    ] {
        let o = vmsim(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let e = stderr(&o);
        assert_eq!(e.lines().count(), 1, "{args:?}: {e}");
        assert!(
            e.starts_with("vmsim: ") && e.contains(says),
            "{args:?}: {e}"
        );
    }
    // Help is not an error: it goes to stdout, whole, with exit 0.
    let o = vmsim(&["run", "--help"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).lines().count() > 10);
}

#[test]
fn an_oom_killed_process_is_named_and_its_records_dropped() {
    let o = vmsim(&["run", "--ram", "200K", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let killed = v["oom_killed"].as_array().unwrap();
    assert_eq!(killed.len(), 1, "{killed:?}");
    assert_eq!(killed[0]["pid"], 1);
    let at = killed[0]["record"].as_u64().unwrap();
    let dropped = v["dropped_records"].as_u64().unwrap();
    // Every record is either replayed up to the kill or dropped after it.
    assert_eq!(at + dropped, v["records"].as_u64().unwrap());
    assert!(
        v["faults"]["segv"].as_u64().unwrap() <= 1,
        "no flood of SIGSEGVs"
    );
    let t = stdout(&vmsim(&["run", "--ram", "200K"]));
    assert!(
        t.contains(&format!("OOM killer ended process 1 at record {at}")),
        "{t}"
    );
    assert!(t.contains(&format!("{dropped} later records")), "{t}");
}

#[test]
fn every_format_flag_lists_the_formats_in_its_help() {
    let read = "text, lackey, vmt, pages, pgt, champsim, champsim-cloudsuite, oracleGeneral, \
                oracleGeneralOpNS, csv, keys, perf";
    let written = "text, lackey, vmt, pages, pgt, champsim, champsim-cloudsuite";
    for (cmd, flag, value, list) in [
        ("run", "--format", "<FORMAT>", read),
        ("convert", "--to", "<FORMAT[.CODEC]>", written),
        ("convert", "--from", "<FORMAT>", read),
        ("policy", "--format", "<FORMAT>", read),
        ("gen", "--format", "<FORMAT>", written),
        ("record", "--to", "<FORMAT>", written),
    ] {
        let help = stdout(&vmsim(&[cmd, "--help"])).replace('\n', " ");
        let at = help
            .find(&format!("{flag} {value}"))
            .unwrap_or_else(|| panic!("{cmd} {flag}"));
        let rest: String = help[at + flag.len()..]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        // This flag's own description: up to the next flag.
        let own = rest.split(" --").next().unwrap_or("");
        assert!(
            own.contains(&format!("[possible values: {list}]")),
            "{cmd} {flag}: {own}"
        );
    }
}
