//! `vmsim policy`: JSON cells, identical results for any --jobs, and bad input.
use std::process::Command;

fn vmsim(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_vmsim"))
        .args(args)
        .output()
        .expect("run vmsim")
}

#[test]
fn beladys_anomaly_through_the_cli() {
    let dir = std::env::temp_dir().join(format!("vmsim-policy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let path = dir.join("belady.txt");
    let text: String = [1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5]
        .iter()
        .map(|p| format!("R 0x{:x}\n", p * 4096))
        .collect();
    std::fs::write(&path, text).expect("write trace");
    let p = path.to_str().expect("utf-8 path");
    let out = vmsim(&[
        "policy", p, "--policy", "fifo,opt", "--frames", "3,4", "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let misses: Vec<u64> = v["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|c| c["misses"].as_u64().expect("misses"))
        .collect();
    assert_eq!(misses, vec![9, 10, 7, 6]);
    let one = vmsim(&[
        "policy",
        p,
        "--policy",
        "random,lru",
        "--frames",
        "2,3",
        "--csv",
        "--jobs",
        "1",
    ]);
    let four = vmsim(&[
        "policy",
        p,
        "--policy",
        "random,lru",
        "--frames",
        "2,3",
        "--csv",
        "--jobs",
        "4",
    ]);
    assert_eq!(one.stdout, four.stdout);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_input_is_one_line_and_a_nonzero_exit() {
    for (args, code) in [
        (vec!["policy", "--policy", "nope"], 2),
        (vec!["policy", "--frames", "0"], 2),
        (vec!["policy", "--page-size", "1000"], 2),
    ] {
        let out = vmsim(&args);
        assert_eq!(out.status.code(), Some(code), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);
    }
}
