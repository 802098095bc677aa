//! OSTEP's `malloc.py` (vm-freespace): a heap managed by vmsim's free-list allocator under the
//! chosen fit, list order, coalescing, header and alignment, fed random operations drawn from
//! the seed or an explicit `-A` list.

use crate::args::{self, py_int, Opt};
use crate::pyrandom::PyRandom;
use crate::{usage, Case};
use serde_json::{json, Value};
use std::collections::HashMap;
use vmsim_core::alloc::{AllocFailure, AllocOutcome, Allocator, Fit, FreeList, ListOrder};

/// The script's options, in its order (its `-h` lists them so).
pub(crate) const OPTS: &[Opt] = &[
    Opt::int('s', "seed", "0").doc("SEED", "the random seed"),
    Opt::int('S', "size", "100").doc("HEAPSIZE", "size of the heap"),
    Opt::int('b', "baseAddr", "1000").doc("BASEADDR", "base address of heap"),
    Opt::int('H', "headerSize", "0").doc("HEADERSIZE", "size of the header"),
    Opt::int('a', "alignment", "-1")
        .doc("ALIGNMENT", "align allocated units to size; -1->no align"),
    Opt::text('p', "policy", "BEST").doc("POLICY", "list search (BEST, WORST, FIRST)"),
    Opt::text('l', "listOrder", "ADDRSORT").doc(
        "ORDER",
        "list order (ADDRSORT, SIZESORT+, SIZESORT-, INSERT-FRONT, INSERT-BACK)",
    ),
    Opt::flag('C', "coalesce").doc("", "coalesce the free list?"),
    Opt::int('n', "numOps", "10").doc("OPSNUM", "number of random ops to generate"),
    Opt::int('r', "range", "10").doc("OPSRANGE", "max alloc size"),
    Opt::int('P', "percentAlloc", "50").doc("OPSPALLOC", "percent of ops that are allocs"),
    Opt::text('A', "allocList", "").doc("OPSLIST", "instead of random, list of ops (+10,-0,etc)"),
    Opt::flag('c', "compute").doc("", "compute answers for me"),
];

fn assertion(why: &str, answers: Vec<Value>, explain: Vec<String>) -> Case {
    let mut e = explain;
    e.push(why.to_string());
    Case::fail("exception:AssertionError", answers, e)
}

fn list_json(f: &FreeList) -> Value {
    json!(f
        .free_list()
        .iter()
        .map(|&(a, s)| [a, s])
        .collect::<Vec<_>>())
}

/// Runs the simulator.
pub fn run(argv: &[String]) -> Case {
    let o = match args::parse(argv, OPTS) {
        Ok(o) => o,
        Err(e) => return usage(e),
    };
    let policy = o.str('p').to_string();
    let order_name = o.str('l').to_string();
    let fit = match policy.as_str() {
        "BEST" => Fit::Best,
        "WORST" => Fit::Worst,
        "FIRST" => Fit::First,
        _ => return assertion("policy must be BEST, WORST or FIRST", vec![], vec![]),
    };
    let order = match order_name.as_str() {
        "ADDRSORT" => ListOrder::Address,
        "SIZESORT+" => ListOrder::SizeAscending,
        "SIZESORT-" => ListOrder::SizeDescending,
        "INSERT-FRONT" => ListOrder::Front,
        "INSERT-BACK" => ListOrder::Back,
        _ => return assertion("unknown list order", vec![], vec![]),
    };
    let align = o.int('a');
    if align == 0 || align < -1 {
        return assertion("alignment must be -1 (none) or positive", vec![], vec![]);
    }
    let mut rng = PyRandom::new(&o.big('s'));
    let (size, base, header) = (o.int('S'), o.int('b'), o.int('H'));
    let pct = o.int('P');
    if pct <= 0 {
        return assertion("percent of allocations must be positive", vec![], vec![]);
    }
    let heap = FreeList::new(
        base.max(0) as u64,
        size.max(0) as u64,
        fit,
        order,
        o.flag('C'),
        header.max(0) as u64,
        (align > 0).then_some(align as u64),
    );
    let random = o.str('A').is_empty();
    let mut ses = Session {
        heap,
        answers: Vec::new(),
        explain: Vec::new(),
        ptrs: HashMap::new(),
        next_ptr: 0,
        successes: 0,
        random,
        header,
        policy: &policy,
        order: &order_name,
        coalesce: o.flag('C'),
    };
    let mut ops = Vec::new();
    if random {
        let n = o.int('n');
        let range = o.int('r');
        let mut live: Vec<(i64, u64)> = Vec::new();
        let mut done = 0;
        while done < n {
            if rng.random() < pct as f64 / 100.0 {
                let sz = (rng.random() * range as f64).trunc() as i64 + 1;
                ops.push(json!({"op": "alloc", "size": sz}));
                match ses.alloc(sz) {
                    Ok(Some(p)) => live.push(p),
                    Ok(None) => {}
                    Err(()) => return ses.assertion(),
                }
                done += 1;
            } else if !live.is_empty() {
                let k = (rng.random() * live.len() as f64).trunc() as usize;
                let (idx, addr) = live.remove(k);
                ops.push(json!({"op": "free", "index": idx}));
                ses.free(idx, addr);
                done += 1;
            }
        }
    } else {
        let list: Vec<String> = o.str('A').split(',').map(str::to_string).collect();
        for op in &list {
            let (sign, rest) = match op.chars().next() {
                None => return Case::fail("exception:IndexError", ses.answers, ses.explain),
                Some(c) => (c, &op[c.len_utf8()..]),
            };
            let Some(v) = py_int(rest, 10).and_then(|b| b.to_i64()) else {
                return Case::fail("exception:ValueError", ses.answers, ses.explain);
            };
            match sign {
                '+' => {
                    ops.push(json!({"op": "alloc", "size": v}));
                    if ses.alloc(v).is_err() {
                        return ses.assertion();
                    }
                }
                '-' => {
                    ops.push(json!({"op": "free", "index": v}));
                    if v >= ses.successes {
                        ses.explain.push(format!(
                            "Free(ptr[{v}]): skipped (only {} allocations have succeeded)",
                            ses.successes
                        ));
                        ses.answers
                            .push(json!({"op": "free", "index": v, "skipped": true}));
                        continue;
                    }
                    let Some(&addr) = ses.ptrs.get(&v) else {
                        return Case::fail("exception:KeyError", ses.answers, ses.explain);
                    };
                    ses.free(v, addr);
                }
                _ => return Case::fail("exception:NameError", ses.answers, ses.explain),
            }
        }
    }
    Case {
        problem: Some(json!({
            "size": size, "base": base, "header": header, "align": align,
            "policy": policy, "order": order_name, "coalesce": o.flag('C'),
            "mode": if random { "random" } else { "list" }, "ops": ops,
        })),
        answers: Some(ses.answers),
        summary: None,
        error: None,
        explain: ses.explain,
    }
}

/// The heap and the bookkeeping of one run.
struct Session<'a> {
    heap: FreeList,
    answers: Vec<Value>,
    explain: Vec<String>,
    /// Pointer number -> address, for successful allocations only.
    ptrs: HashMap<i64, u64>,
    next_ptr: i64,
    successes: i64,
    random: bool,
    header: i64,
    policy: &'a str,
    order: &'a str,
    coalesce: bool,
}

impl Session<'_> {
    /// Allocates `n` bytes as the next pointer; `Err` when the original's assertion trips.
    fn alloc(&mut self, n: i64) -> Result<Option<(i64, u64)>, ()> {
        let (addr_opt, searched) = match self.heap.alloc(n.max(0) as u64) {
            AllocOutcome::Failed {
                reason: AllocFailure::SamePointer,
                ..
            } => return Err(()),
            o => (o.block().map(|b| b.start), o.searched()),
        };
        let idx = self.next_ptr;
        self.next_ptr += 1;
        let addr = addr_opt.map_or(-1, |a| a as i64);
        // Random mode reports the address after the header; list mode the chunk itself.
        let ret = if self.random {
            addr + self.header
        } else {
            addr
        };
        let need = self.heap.need(n.max(0) as u64);
        self.explain.push(match addr_opt {
            Some(a) => format!(
                "ptr[{idx}] = Alloc({n}): needs {need} bytes; {} fit searched {} entries and chose the chunk at {a}; returned {ret}",
                self.policy, searched
            ),
            None => format!(
                "ptr[{idx}] = Alloc({n}): needs {need} bytes; no free chunk is large enough after searching {} entries: fails",
                searched
            ),
        });
        self.answers.push(json!({
            "op": "alloc", "index": idx, "size": n, "ret": ret, "addr": addr,
            "searched": searched, "freelist": list_json(&self.heap),
        }));
        Ok(addr_opt.map(|a| {
            self.ptrs.insert(idx, a);
            self.successes += 1;
            (idx, a)
        }))
    }

    /// Frees pointer `idx` at `addr`.
    fn free(&mut self, idx: i64, addr: u64) {
        // The allocator takes back the pointer past the header.
        let ok = self.heap.free(addr + self.header.max(0) as u64).is_ok();
        self.explain.push(if ok {
            format!(
                "Free(ptr[{idx}]) at {addr}: returned to the list ({}{})",
                self.order,
                if self.coalesce { ", coalesced" } else { "" }
            )
        } else {
            format!("Free(ptr[{idx}]) at {addr}: no live block starts there: returns -1")
        });
        self.answers.push(json!({
            "op": "free", "index": idx, "ret": if ok { 0 } else { -1 },
            "freelist": list_json(&self.heap),
        }));
    }

    fn assertion(self) -> Case {
        assertion(
            "two zero-size blocks at one address",
            self.answers,
            self.explain,
        )
    }
}
