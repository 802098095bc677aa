//! OSTEP's `paging-policy.py` (vm-beyondphys-policy): a reference string (drawn, listed with
//! `-a`, or read from `-f`) replayed through vmsim's list-ordered page cache under FIFO, LRU,
//! MRU, OPT, UNOPT, RAND or CLOCK, with the simulator's list order and random choices.

use crate::args::{self, py_int, Opt};
use crate::pyrandom::PyRandom;
use crate::{usage, Case};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::Path;
use vmsim_core::replace::{ListCache, ListPolicy};

/// The script's options, in its order (its `-h` lists them so).
pub(crate) const OPTS: &[Opt] = &[
    Opt::text('a', "addresses", "-1").doc(
        "ADDRESSES",
        "a set of comma-separated pages to access; -1 means randomly generate",
    ),
    Opt::text('f', "addressfile", "").doc("ADDRESSFILE", "a file with a bunch of addresses in it"),
    Opt::text('n', "numaddrs", "10").doc(
        "NUMADDRS",
        "if -a (--addresses) is -1, this is the number of addrs to generate",
    ),
    Opt::text('p', "policy", "FIFO").doc(
        "POLICY",
        "replacement policy: FIFO, LRU, OPT, UNOPT, RAND, CLOCK",
    ),
    Opt::int('b', "clockbits", "2")
        .doc("CLOCKBITS", "for CLOCK policy, how many clock bits to use"),
    Opt::text('C', "cachesize", "3").doc("CACHESIZE", "size of the page cache, in pages"),
    Opt::text('m', "maxpage", "10").doc(
        "MAXPAGE",
        "if randomly generating page accesses, this is the max page number",
    ),
    Opt::text('s', "seed", "0").doc("SEED", "random number seed"),
    Opt::flag('N', "notrace").doc("", "do not print out a detailed trace"),
    Opt::flag('c', "compute").doc("", "compute answers for me"),
];

fn int(s: &str) -> Option<i64> {
    py_int(s, 10).and_then(|b| b.to_i64())
}

fn value_error(answers: Vec<Value>, explain: Vec<String>) -> Case {
    Case::fail("exception:ValueError", answers, explain)
}

/// Why the policy chose `victim` from `before` (the resident pages, in list order, and their
/// use counters) when reference `at` of `trace` missed; `draws` are the random numbers the
/// eviction took.
#[allow(clippy::too_many_arguments)]
fn why_victim(
    policy: &str,
    victim: i64,
    before: &[i64],
    counters: &[Option<i64>],
    draws: &[f64],
    trace: &[i64],
    at: usize,
    last_use: &HashMap<i64, usize>,
) -> String {
    let used = |p: &i64| {
        last_use
            .get(p)
            .map_or("never".to_string(), |k| format!("#{k}"))
    };
    let next = |p: &i64| {
        trace[at + 1..]
            .iter()
            .position(|q| q == p)
            .map_or("never".to_string(), |d| format!("#{}", at + 1 + d))
    };
    let each = |f: &dyn Fn(&i64) -> String| {
        before
            .iter()
            .map(|p| format!("{p}: {}", f(p)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match policy {
        "FIFO" => format!("{victim} came in first of {before:?}"),
        "LRU" => format!(
            "last uses {}; {victim} is the least recently used",
            each(&used)
        ),
        "MRU" => format!(
            "last uses {}; {victim} is the most recently used",
            each(&used)
        ),
        "OPT" => format!(
            "next uses {}; {victim} is needed furthest ahead (the last such on a tie)",
            each(&next)
        ),
        "UNOPT" => format!(
            "next uses {}; {victim} is needed soonest (the first such on a tie)",
            each(&next)
        ),
        "RAND" => format!(
            "draw {} x {} pages picks slot {}",
            draws.first().copied().unwrap_or(0.0),
            before.len(),
            victim_slot(before, victim)
        ),
        _ => {
            // CLOCK: each draw points the hand at a slot; a page with use bits left is
            // spared (and loses one), the first with none is evicted.
            let mut bits: Vec<i64> = counters.iter().map(|c| c.unwrap_or(0)).collect();
            let mut steps = Vec::new();
            for d in draws {
                let slot = (before.len() as f64 * d).trunc() as usize;
                let Some(&p) = before.get(slot) else { break };
                if bits[slot] >= 1 {
                    steps.push(format!(
                        "{p} use {} -> {} spared",
                        bits[slot],
                        bits[slot] - 1
                    ));
                    bits[slot] -= 1;
                } else {
                    steps.push(format!("{p} use 0 evicted"));
                }
            }
            format!("hand scan: {}", steps.join("; "))
        }
    }
}

/// Where `victim` sat in `before`.
fn victim_slot(before: &[i64], victim: i64) -> usize {
    before.iter().position(|&p| p == victim).unwrap_or(0)
}

/// Runs the simulator; `-f` files are read relative to `dir`.
pub fn run(argv: &[String], dir: &Path) -> Case {
    let o = match args::parse(argv, OPTS) {
        Ok(o) => o,
        Err(e) => return usage(e),
    };
    // The seed is a string flag: Python int(), decimal only, any size.
    let Some(seed) = py_int(o.str('s'), 10) else {
        return value_error(vec![], vec![]);
    };
    let mut rng = PyRandom::new(&seed);
    let (Some(n), Some(cache), Some(maxpage)) = (int(o.str('n')), int(o.str('C')), int(o.str('m')))
    else {
        return value_error(vec![], vec![]);
    };
    let bits = o.int('b');
    // The reference string, as text entries converted one at a time while solving.
    let entries: Vec<String> = if !o.str('f').is_empty() {
        match std::fs::read_to_string(dir.join(o.str('f'))) {
            Ok(t) => t.lines().map(str::to_string).collect(),
            Err(_) => return Case::fail("exception:FileNotFoundError", vec![], vec![]),
        }
    } else if o.str('a') != "-1" {
        o.str('a').split(',').map(str::to_string).collect()
    } else {
        (0..n.max(0))
            .map(|_| ((maxpage as f64) * rng.random()).trunc() as i64)
            .map(|p| p.to_string())
            .collect()
    };
    let name = o.str('p').to_string();
    let Some(policy) = ListPolicy::from_ostep(&name, bits) else {
        return Case::fail(
            "policy_not_implemented",
            vec![],
            vec![format!(
                "policy `{name}` is not one of FIFO, LRU, MRU, OPT, UNOPT, RAND, CLOCK"
            )],
        );
    };
    // OPT and UNOPT look ahead: convert as far as the entries parse (a bad entry stops the run
    // when it is reached, after the earlier answers).
    let parsed: Vec<Option<i64>> = entries.iter().map(|e| int(e)).collect();
    let good: Vec<i64> = parsed.iter().map_while(|p| *p).collect();
    let mut c = ListCache::new(policy, cache);
    let (mut hits, mut misses) = (0u64, 0u64);
    let mut answers = Vec::new();
    let mut explain = Vec::new();
    let trace_answers = !o.flag('N');
    let mut last_use: HashMap<i64, usize> = HashMap::new();
    for (i, p) in parsed.iter().enumerate() {
        let Some(page) = *p else {
            return value_error(answers, explain);
        };
        let before: Vec<i64> = c.resident().to_vec();
        let counters: Vec<Option<i64>> = before.iter().map(|&p| c.counter(p)).collect();
        let mut draws = Vec::new();
        let step = match c.access(&good, i, || {
            let d = rng.random();
            draws.push(d);
            d
        }) {
            Ok(s) => s,
            Err(_) => return Case::fail("exception:IndexError", answers, explain),
        };
        if step.hit {
            hits += 1;
        } else {
            misses += 1;
        }
        // OSTEP uses -1 for "nothing evicted", so evicting page -1 reads as no victim.
        let victim = step.victim.filter(|&v| v != -1);
        explain.push(match (step.hit, step.victim) {
            (true, _) => format!("access {page}: HIT; memory {:?}", c.resident()),
            (false, Some(v)) => format!(
                "access {page}: MISS, memory full: {name} evicts {v} ({}); memory {:?}",
                why_victim(&name, v, &before, &counters, &draws, &good, i, &last_use),
                c.resident()
            ),
            (false, None) => format!(
                "access {page}: MISS, a free frame takes it; memory {:?}",
                c.resident()
            ),
        });
        last_use.insert(page, i);
        if trace_answers {
            answers.push(json!({
                "addr": page, "hit": step.hit, "victim": victim,
                "memory": c.resident(), "hits": hits, "misses": misses,
            }));
        }
    }
    if hits + misses == 0 {
        return Case::fail("exception:ZeroDivisionError", answers, explain);
    }
    let rate: f64 = format!("{:.2}", 100.0 * hits as f64 / (hits + misses) as f64)
        .parse()
        .unwrap_or(0.0);
    Case {
        problem: Some(
            json!({"policy": name, "cachesize": cache, "clockbits": bits, "addrs": good}),
        ),
        answers: trace_answers.then_some(answers),
        summary: Some(json!({"hits": hits, "misses": misses, "hitrate": rate})),
        error: None,
        explain,
    }
}
