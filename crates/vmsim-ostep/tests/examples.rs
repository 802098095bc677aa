//! The examples of issue 23, each run as the script would run it: the text (and ending) the
//! original OSTEP script prints. Before the script mode, vmsim printed its own layout, wrapped
//! negative addresses, clamped malloc's negatives, capped integers at 2^63-1, rejected option
//! prefixes and ran nothing of a problem whose solving fails.

use std::path::Path;
use vmsim_ostep::script::{run, End};

fn script(sim: &str, line: &str) -> (String, End) {
    let args: Vec<String> = line.split_whitespace().map(str::to_string).collect();
    let mut out = Vec::new();
    let end = run(sim, &args, Path::new("."), 80, &mut out).unwrap();
    (String::from_utf8(out).unwrap(), end)
}

fn raised(end: &End) -> &str {
    end.error_type().unwrap_or("none")
}

#[test]
fn negative_physical_addresses_print_signed() {
    let (out, end) = script("segmentation", "-b 100 -B 50 -c");
    assert_eq!(end, End::Ok);
    assert!(
        out.contains("VALID in SEG1: 0x-00000ac (decimal: -172)"),
        "{out}"
    );
    let (out, _) = script("relocation", "-s 38 -a 70 -p 71 -n 12 -l 14 -b -84 -c");
    assert!(out.contains("  Base   : 0x-0000054 (decimal -84)"), "{out}");
    assert!(out.contains("VALID: 0x-00000"), "{out}");
}

#[test]
fn malloc_computes_with_negative_values_and_splits_ops_as_python() {
    let (out, end) = script("malloc", "-S 45 -b -252 -A +10,-0 -c");
    assert_eq!(end, End::Ok);
    assert!(
        out.contains("ptr[0] = Alloc(10) returned -252 (searched 1 elements)"),
        "{out}"
    );
    assert!(
        out.contains("Free List [ Size 1 ]: [ addr:-242 sz:35 ]"),
        "{out}"
    );
    assert!(
        out.contains("Free List [ Size 2 ]: [ addr:-252 sz:10 ][ addr:-242 sz:35 ]"),
        "{out}"
    );
    assert_eq!(raised(&script("malloc", "-A 5").1), "NameError");
    let (out, end) = script("malloc", "-A +3,y");
    assert_eq!(raised(&end), "NameError");
    assert!(
        out.contains("ptr[0] = Alloc(3) returned ?"),
        "the op before the bad one prints: {out}"
    );
    assert_eq!(raised(&script("malloc", "-A ++3").1), "ValueError");
    let (out, end) = script("malloc", "-A +3+4 -c");
    assert_eq!(end, End::Ok);
    assert!(out.contains("ptr[0] = Alloc(3) returned 1000"), "{out}");
}

#[test]
fn skipped_frees_say_so() {
    let (out, _) = script("malloc", "-A +10,-5,-0,-0 -c");
    assert_eq!(out.matches("Invalid Free: Skipping").count(), 1, "{out}");
    assert!(
        out.contains("Free(ptr[0])\nreturned -1"),
        "a second free of ptr[0] fails: {out}"
    );
}

#[test]
fn linear_size_uses_unbounded_ints_and_python_floats() {
    let (out, end) = script("paging-linear-size", "-v 159 -e 4096 -c");
    assert_eq!(end, End::Ok);
    assert!(
        out.contains("  730750818665451459101842416358141509827966271488 bytes"),
        "{out}"
    );
    assert!(out.contains("  in KB: 7.1362384635298e+44"), "{out}");
    let (out, end) = script("paging-linear-size", "-v 1029 -p 16 --ptesize=2k -c");
    assert_eq!(raised(&end), "OverflowError");
    assert!(out.contains("where V is for a VPN bit"), "{out}");
    let (out, _) = script("paging-linear-size", "-p 16k -v 2 -c");
    assert!(
        out.contains("  in MB: 6.103515625e-05") || out.contains("e-"),
        "{out}"
    );
    let args = vec!["-v".to_string(), String::new()];
    let mut buf = Vec::new();
    let end = run("paging-linear-size", &args, Path::new("."), 80, &mut buf).unwrap();
    assert_eq!(raised(&end), "ValueError");
}

#[test]
fn long_option_prefixes_are_accepted_when_unambiguous() {
    let (out, end) = script("relocation", "--ad=4");
    assert_eq!(end, End::Ok);
    assert_eq!(out.matches("  VA ").count(), 4, "{out}");
    let (out, _) = script("paging-policy", "--po=LRU -c");
    assert!(out.contains("ARG policy LRU"), "{out}");
    let (out, _) = script("malloc", "--coa -c");
    assert!(out.contains("coalesce True"), "{out}");
    // --a is both --asize and --addresses for relocation.py.
    assert!(matches!(script("relocation", "--a=1").1, End::Usage(_)));
}

#[test]
fn the_problem_prints_when_only_solving_fails() {
    let (out, end) = script("paging-policy", "-p lru");
    assert_eq!(end, End::Ok);
    assert!(
        out.contains("Assuming a replacement policy of lru"),
        "{out}"
    );
    assert_eq!(script("paging-policy", "-p lru -c").1, End::Exit);
    assert_eq!(script("paging-policy", "-n 0").1, End::Ok);
    let (out, end) = script("paging-policy", "-n 0 -c");
    assert_eq!(raised(&end), "ZeroDivisionError");
    assert!(out.ends_with("Solving...\n\n\n"), "{out:?}");
    let (out, end) = script("paging-linear-translate", "-A 70000 -a 64k -p 128k");
    assert_eq!(end, End::Ok);
    assert!(
        out.contains("VA 0x00011170 (decimal:    70000) --> PA or invalid address?"),
        "{out}"
    );
    assert_eq!(
        raised(&script("paging-linear-translate", "-A 70000 -a 64k -p 128k -c").1),
        "IndexError"
    );
    // The address is read before the policy is checked, without -c.
    assert_eq!(
        raised(&script("paging-policy", "-p NONE -a 1.5").1),
        "ValueError"
    );
}

#[test]
fn notrace_prints_only_the_final_statistics() {
    let (out, end) = script("paging-policy", "-N -c");
    assert_eq!(end, End::Ok);
    assert!(!out.contains("Access:"), "{out}");
    assert!(!out.contains("Solving"), "{out}");
    assert!(out.contains("FINALSTATS hits "), "{out}");
}

#[test]
fn large_physical_memory_is_not_refused() {
    let (out, end) = script("paging-linear-translate", "-a 16 -p 5m -P 1 -n 2 -c");
    assert_eq!(end, End::Ok);
    assert!(
        out.contains("  VA 0x00000006 (decimal:        6) --> 0048a626 (decimal  4761126) [VPN 6]"),
        "{out}"
    );
    assert!(
        out.contains("  VA 0x00000009 (decimal:        9) -->  Invalid (VPN 9 not valid)"),
        "{out}"
    );
}

#[test]
fn dash_h_prints_the_scripts_own_options() {
    for (sim, flag) in [
        ("relocation", "-l LIMIT, --l=LIMIT"),
        ("segmentation", "-L LEN1, --l1=LEN1"),
        ("malloc", "-A OPSLIST, --allocList=OPSLIST"),
        ("paging-linear-size", "-e PTESIZE, --ptesize=PTESIZE"),
        (
            "paging-linear-translate",
            "-P PAGESIZE, --pagesize=PAGESIZE",
        ),
        ("paging-multilevel-translate", "-c, --solve"),
        ("paging-policy", "-N, --notrace"),
    ] {
        let (out, end) = script(sim, "-h");
        assert_eq!(end, End::Ok);
        assert!(
            out.starts_with(&format!("Usage: {sim}.py [options]\n")),
            "{out}"
        );
        assert!(out.contains(flag), "{sim}: {out}");
    }
}
