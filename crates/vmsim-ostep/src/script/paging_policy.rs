//! paging-policy.py (vm-beyondphys-policy): page replacement, printed as the script prints it,
//! checking its arguments in its order and failing where it fails (an empty cache, no
//! references, a reference that is not a number when it is read).

use super::{exit, raise, End, Out};
use crate::args::Parsed;
use crate::py::{bool_str, draw_below, int, list_repr};
use crate::pyrandom::PyRandom;
use std::collections::HashMap;
use std::path::Path;

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
        raise("ValueError", format!("invalid literal for int() with base 10: '{}'", o.str('s')))
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
        out.line(format!("Assuming a replacement policy of {policy}, and a cache of size {cachesize} pages,"));
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
        _ => return exit(out, format!("Policy {policy} is not yet implemented")),
    };
    let empty = || raise("IndexError", "pop from empty list");
    let mut memory: Vec<i128> = Vec::new();
    let mut refs: HashMap<i128, i128> = HashMap::new();
    let (mut count, mut hits, mut miss) = (0i128, 0i128, 0i128);
    for (at, text) in list.iter().enumerate() {
        let n = int(text)?;
        let idx = memory.iter().position(|&p| p == n);
        if let Some(i) = idx {
            hits += 1;
            if policy == "LRU" || policy == "MRU" {
                memory.remove(i);
                memory.push(n);
            }
        } else {
            miss += 1;
        }
        let mut victim = None;
        if idx.is_none() {
            if count == cachesize {
                let at_victim = match policy {
                    "FIFO" | "LRU" => 0,
                    "MRU" => (memory.len() as i128 - 1).max(0) as usize,
                    "RAND" => draw_below(count, rng.random()).max(0) as usize,
                    "CLOCK" => loop {
                        let i = draw_below(count, rng.random()).max(0) as usize;
                        let page = *memory.get(i).ok_or_else(|| raise("IndexError", "list index out of range"))?;
                        let r = refs.entry(page).or_insert(0);
                        if *r >= 1 {
                            *r -= 1;
                        } else {
                            refs.remove(&page);
                            break i;
                        }
                    },
                    _ => {
                        // OPT evicts the page used furthest ahead (the last such on ties),
                        // UNOPT the one used soonest (the first such).
                        let mut best: Option<(usize, i128)> = None;
                        for (k, &page) in memory.iter().enumerate() {
                            let mut when = list.len() as i128;
                            for (f, t) in list.iter().enumerate().skip(at + 1) {
                                if int(t)? == page {
                                    when = f as i128;
                                    break;
                                }
                            }
                            let take = match best {
                                None => if policy == "OPT" { when >= -1 } else { when < list.len() as i128 + 1 },
                                Some((_, b)) => if policy == "OPT" { when >= b } else { when < b },
                            };
                            if take {
                                best = Some((k, when));
                            }
                        }
                        match best {
                            Some((k, _)) => k,
                            None => memory.len().wrapping_sub(1),
                        }
                    }
                };
                if at_victim >= memory.len() {
                    return Err(empty());
                }
                victim = Some(memory.remove(at_victim));
            } else {
                count += 1;
            }
            memory.push(n);
        }
        match refs.get_mut(&n) {
            None => {
                refs.insert(n, 1);
            }
            Some(r) => {
                *r += 1;
                if *r > clockbits {
                    *r = clockbits;
                }
            }
        }
        if !notrace {
            // The script's "no victim" is -1, so evicting page -1 prints "-" too.
            let v = match victim {
                Some(v) if v != -1 => v.to_string(),
                _ => "-".to_string(),
            };
            out.line(format!(
                "Access: {n}  {} {left} -> {:>12} <- {right} Replaced:{v} [Hits:{hits} Misses:{miss}]",
                if idx.is_some() { "HIT " } else { "MISS" },
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
