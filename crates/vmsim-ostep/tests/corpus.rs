//! Replays the differential corpus (tests/data/ostep-corpus.jsonl, written from the original
//! OSTEP scripts by tests/ostep-corpus/regenerate.py) through vmsim's script mode and requires
//! the same stdout, exit status and error type on every command line.

use serde_json::Value;
use std::path::Path;

fn fnv1a64(data: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in data {
        h ^= *b as u64;
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    format!("{h:016x}")
}

#[test]
fn every_corpus_line_matches_the_original_script() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let text = std::fs::read_to_string(root.join("tests/data/ostep-corpus.jsonl"))
        .expect("tests/data/ostep-corpus.jsonl");
    let mut total = 0;
    let mut diffs = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let rec: Value = serde_json::from_str(line).expect("corpus line is JSON");
        let sim = rec["sim"].as_str().unwrap();
        let args: Vec<String> = rec["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_string())
            .collect();
        let mut out = Vec::new();
        let end =
            vmsim_ostep::script::run(sim, &args, &root, 80, &mut out).expect("known simulator");
        total += 1;
        let stdout_ok = match rec["stdout"].as_str() {
            Some(s) => s.as_bytes() == out.as_slice(),
            None => {
                rec["len"].as_u64() == Some(out.len() as u64)
                    && rec["fnv"].as_str() == Some(fnv1a64(&out).as_str())
            }
        };
        let exit_ok = rec["exit"].as_i64() == Some(end.status() as i64);
        let error_ok = rec["error"].as_str() == end.error_type();
        if !(stdout_ok && exit_ok && error_ok) {
            let expected = rec["stdout"]
                .as_str()
                .or(rec["head"].as_str())
                .unwrap_or("");
            diffs.push(format!(
                "line {}: {sim} {}\n  exit {} / {}, error {} / {:?}\n--- expected\n{}\n--- got\n{}",
                n + 1,
                args.join(" "),
                rec["exit"],
                end.status(),
                rec["error"],
                end.error_type(),
                &expected[..expected.len().min(700)],
                String::from_utf8_lossy(&out[..out.len().min(700)])
            ));
        }
    }
    assert!(
        total >= 2000,
        "the corpus has {total} lines, fewer than 2,000"
    );
    assert!(
        diffs.is_empty(),
        "{} of {total} command lines differ from the original scripts; the first:\n{}",
        diffs.len(),
        diffs
            .iter()
            .take(8)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n\n")
    );
}
