//! paging-policy.py (vm-beyondphys-policy): page replacement by vmsim's list cache, printed as
//! the script prints it, checking its arguments in its order and failing where it fails (an
//! empty cache, no references, a reference that is not a number when it is read).

use super::{exit, raise, End, Out};
use crate::args::Parsed;
use crate::py::{bool_str, draw_below, int, list_repr};
use crate::pyrandom::PyRandom;
use std::path::Path;
use vmsim_core::replace::{ListCache, ListPolicy};

/// The script's flow.
pub fn run(o: &Parsed, out: &mut Out, dir: &Path) -> Result<(), End> {
    let notrace = o.flag('N');
    for (name, v) in [
        ("addresses", o.str('a').to_string()),
        ("addressfile", o.str('f').to_string()),
        ("numaddrs", o.str('n').to_string()),
        ("policy", o.str('p').to_string()),
        ("clockbits", super::opt_int_str(o, 'b')),
        ("cachesize", o.str('C').to_string()),
        ("maxpage", o.str('m').to_string()),
        ("seed", o.str('s').to_string()),
        ("notrace", bool_str(notrace).to_string()),
    ] {
        out.line(format!("ARG {name} {v}"));
    }
    out.line("");
    let numaddrs = int(o.str('n'))?;
    let cachesize = int(o.str('C'))?;
    let seed = crate::args::py_int(o.str('s'), 10).ok_or_else(|| {
        raise(
            "ValueError",
            format!("invalid literal for int() with base 10: '{}'", o.str('s')),
        )
    })?;
    let maxpage = int(o.str('m'))?;
    let policy = o.str('p');
    let clockbits = super::opt_int(o, 'b');
    let mut rng = PyRandom::new(&seed);
    let list: Vec<String> = if !o.str('f').is_empty() {
        let path = dir.join(o.str('f'));
        let text = std::fs::read_to_string(&path).map_err(|e| {
            let name = match e.kind() {
                std::io::ErrorKind::NotFound => "FileNotFoundError",
                std::io::ErrorKind::PermissionDenied => "PermissionError",
                _ => "OSError",
            };
            raise(name, format!("{}: {e}", path.display()))
        })?;
        let mut v = Vec::new();
        for line in text.split_inclusive('\n') {
            v.push(int(line)?.to_string());
        }
        v
    } else if o.str('a') == "-1" {
        let mut v = Vec::new();
        let mut i = 0i128;
        while i < numaddrs {
            v.push(draw_below(maxpage, rng.random()).to_string());
            i += 1;
        }
        v
    } else {
        o.str('a').split(',').map(str::to_string).collect()
    };
    if !o.flag('c') {
        out.line(format!(
            "Assuming a replacement policy of {policy}, and a cache of size {cachesize} pages,"
        ));
        out.line("figure out whether each of the following page references hit or miss");
        out.line("in the page cache.\n");
        for n in &list {
            out.line(format!("Access: {}  Hit/Miss?  State of Memory?", int(n)?));
        }
        out.line("");
        return Ok(());
    }
    if !notrace {
        out.line("Solving...\n");
    }
    let (left, right) = match policy {
        "FIFO" => ("FirstIn", "Lastin "),
        "LRU" | "MRU" => ("LRU", "MRU"),
        "OPT" | "RAND" | "UNOPT" | "CLOCK" => ("Left ", "Right"),
        // paging-policy.py's own words for a policy it does not know, printed as it prints them.
        _ => return exit(out, format!("Policy {policy} is not yet implemented")),
    };
    let kind = ListPolicy::from_ostep(
        policy,
        clockbits.clamp(i64::MIN as i128, i64::MAX as i128) as i64,
    )
    .expect("the policy was checked above");
    let page_of = |t: &str| -> Result<i64, End> {
        let v = int(t)?;
        i64::try_from(v).map_err(|_| raise("OverflowError", "page number beyond 2^63"))
    };
    // The references as far as they read as integers; the script converts each when it gets
    // there (and OPT/UNOPT convert the ones ahead when they look ahead).
    let good: Vec<i64> = list.iter().map_while(|t| page_of(t).ok()).collect();
    let mut cache = ListCache::new(
        kind,
        cachesize.clamp(i64::MIN as i128, i64::MAX as i128) as i64,
    );
    let (mut hits, mut miss) = (0i128, 0i128);
    for (at, text) in list.iter().enumerate() {
        let n = page_of(text)?;
        let full = !cache.resident().contains(&n) && cache.filled();
        if full && matches!(kind, ListPolicy::Opt | ListPolicy::Unopt) && good.len() < list.len() {
            // Looking ahead, the script converts references until it finds each resident
            // page: one it cannot find before the bad reference raises there.
            let ahead = &good[at + 1..];
            if cache.resident().iter().any(|p| !ahead.contains(p)) {
                page_of(&list[good.len()])?;
            }
        }
        let step = cache
            .access(&good, at, || rng.random())
            .map_err(|_| raise("IndexError", "pop from empty list"))?;
        if step.hit {
            hits += 1;
        } else {
            miss += 1;
        }
        if !notrace {
            // The script's "no victim" is -1, so evicting page -1 prints "-" too.
            let v = match step.victim {
                Some(v) if v != -1 => v.to_string(),
                _ => "-".to_string(),
            };
            let memory: Vec<i128> = cache.resident().iter().map(|&p| p as i128).collect();
            out.line(format!(
                "Access: {n}  {} {left} -> {:>12} <- {right} Replaced:{v} [Hits:{hits} Misses:{miss}]",
                if step.hit { "HIT " } else { "MISS" },
                list_repr(&memory)
            ));
        }
    }
    out.line("");
    if hits + miss == 0 {
        return Err(raise("ZeroDivisionError", "float division by zero"));
    }
    out.line(format!(
        "FINALSTATS hits {hits}   misses {miss}   hitrate {:.2}",
        100.0 * hits as f64 / (hits as f64 + miss as f64)
    ));
    out.line("");
    Ok(())
}
