//! Every golden case of `golden/ostep` (at the repository root) for the simulators implemented so far, compared
//! with SCHEMA.md's matching rules. Fails (never skips) when the golden folder is missing.
use serde_json::Value;
use std::path::PathBuf;
use vmsim_ostep::pyrandom::{BigInt, PyRandom};

fn golden_dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../golden/ostep");
    assert!(
        d.is_dir(),
        "golden vectors missing: expected {} (golden/ostep at the repository root)",
        d.display()
    );
    d
}

/// SCHEMA.md: golden keys must be present and match; arrays match element-wise; numbers by
/// value (floats within 1e-9 relative); booleans only booleans.
fn matches(golden: &Value, ours: &Value) -> bool {
    match (golden, ours) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(a), Value::Bool(b)) => a == b,
        (Value::Number(a), Value::Number(b)) => {
            let (x, y) = (
                a.as_f64().unwrap_or(f64::NAN),
                b.as_f64().unwrap_or(f64::NAN),
            );
            match (a.as_i64(), b.as_i64()) {
                (Some(i), Some(j)) => i == j,
                _ => x == y || ((x - y).abs() <= 1e-9 * x.abs().max(y.abs())),
            }
        }
        (Value::String(a), Value::String(b)) => a == b,
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| matches(x, y))
        }
        (Value::Object(a), Value::Object(b)) => a
            .iter()
            .all(|(k, v)| b.get(k).is_some_and(|w| matches(v, w))),
        _ => false,
    }
}

#[test]
fn python_random_matches_cpython() {
    let text = std::fs::read_to_string(golden_dir().join("pyrandom.jsonl")).unwrap();
    let mut n = 0;
    for line in text.lines() {
        // The seed may exceed 64 bits: take its digits from the raw text.
        let raw = line.split("\"seed\":").nth(1).unwrap();
        let digits: String = raw
            .trim_start()
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '-')
            .collect();
        let (neg, mag) = match digits.strip_prefix('-') {
            Some(m) => (true, m),
            None => (false, digits.as_str()),
        };
        let mut seed = BigInt::parse_digits(mag, 10).unwrap();
        seed.negative = neg;
        let v: Value = serde_json::from_str(line).unwrap();
        let mut r = PyRandom::new(&seed);
        for expected in v["random53"].as_array().unwrap() {
            assert_eq!(r.next_53(), expected.as_u64().unwrap(), "seed {digits}");
        }
        n += 1;
    }
    assert_eq!(n, 13);
}

#[test]
fn golden_cases_match_exactly() {
    let dir = golden_dir();
    let mut report = Vec::new();
    let mut failures = Vec::new();
    for sim in vmsim_ostep::SIMULATORS {
        let text = std::fs::read_to_string(dir.join(format!("{sim}.jsonl"))).unwrap();
        let (mut pass, mut total) = (0, 0);
        for line in text.lines() {
            let g: Value = serde_json::from_str(line).unwrap();
            let args: Vec<String> = g["args"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_string())
                .collect();
            // Input files travel inline: write them where the case runs.
            let run_dir = std::env::temp_dir().join(format!("vmsim-golden-{}", std::process::id()));
            std::fs::create_dir_all(&run_dir).unwrap();
            if let Some(files) = g["files"].as_object() {
                for (name, text) in files {
                    std::fs::write(run_dir.join(name), text.as_str().unwrap()).unwrap();
                }
            }
            let case = vmsim_ostep::run(sim, &args, &run_dir).unwrap();
            let ours = serde_json::to_value(&case).unwrap();
            total += 1;
            let ok = if !g["error"].is_null() {
                ours["error"] == g["error"]
            } else {
                ours["error"].is_null()
                    && matches(&g["problem"], &ours["problem"])
                    && (g["answers"].is_null() || matches(&g["answers"], &ours["answers"]))
                    && (g["summary"].is_null() || matches(&g["summary"], &ours["summary"]))
            };
            if ok {
                pass += 1;
            } else if failures.len() < 10 {
                failures.push(format!(
                    "{}: {:?}\n  golden: {}\n  ours:   {}",
                    g["id"], args, line, ours
                ));
            }
        }
        report.push(format!("{sim}: {pass}/{total}"));
    }
    eprintln!("golden OSTEP cases: {}", report.join(", "));
    assert!(
        failures.is_empty(),
        "{}\n{}",
        report.join(", "),
        failures.join("\n")
    );
}
