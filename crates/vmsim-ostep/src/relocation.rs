//! OSTEP's `relocation.py` (vm-mechanism): base and bounds. The problem is generated from the
//! seed as the original does; each address is translated by vmsim's base-and-bounds mechanism.

use crate::args::{self, Opt};
use crate::pyrandom::PyRandom;
use crate::{usage, Case};
use serde_json::json;
use vmsim_core::translate::base_bounds::BaseBounds;
use vmsim_core::translate::Translate;
use vmsim_core::{AccessKind, VirtAddr};

const OPTS: &[Opt] = &[
    Opt::int('s', "seed", "0"),
    Opt::text('a', "asize", "1k"),
    Opt::text('p', "physmem", "16k"),
    Opt::int('n', "addresses", "5"),
    Opt::text('b', "b", "-1"),
    Opt::text('l', "l", "-1"),
    Opt::flag('c', "compute"),
];

/// Runs the simulator.
pub fn run(argv: &[String]) -> Case {
    let o = match args::parse(argv, OPTS) {
        Ok(o) => o,
        Err(e) => return usage(e),
    };
    let mut rng = PyRandom::new(&o.big('s'));
    let asize = converted!(o.str('a'));
    let psize = converted!(o.str('p'));
    if psize <= 1 {
        return Case::fail(
            "psize_too_small",
            vec![],
            vec!["physical memory must be larger than 1 byte".into()],
        );
    }
    if asize == 0 {
        return Case::fail(
            "asize_zero",
            vec![],
            vec!["the address space must not be empty".into()],
        );
    }
    if psize <= asize {
        return Case::fail(
            "psize_not_greater_than_asize",
            vec![],
            vec!["physical memory must be larger than the address space".into()],
        );
    }
    let limit = if o.str('l') == "-1" {
        let q = asize as f64 / 4.0;
        (q + q * rng.random()).trunc() as i64
    } else {
        converted!(o.str('l'))
    };
    let base = if o.str('b') == "-1" {
        if limit >= psize {
            return Case::fail(
                "no_base_fits",
                vec![],
                vec![format!("no base makes a limit of {limit} fit below {psize}: the original would loop forever")],
            );
        }
        loop {
            let b = rng.below(psize as f64);
            if b + limit < psize {
                break b;
            }
        }
    } else {
        converted!(o.str('b'))
    };
    if base + limit > psize {
        return Case::fail(
            "does_not_fit",
            vec![],
            vec![format!(
                "base {base} + limit {limit} is beyond physical memory ({psize})"
            )],
        );
    }
    let n = o.int('n').max(0);
    let vaddrs: Vec<i64> = (0..n).map(|_| rng.below(asize as f64)).collect();
    let mech = BaseBounds {
        base: base as u64,
        bounds: limit as u64,
    };
    let mut answers = Vec::new();
    let mut explain = Vec::new();
    for &va in &vaddrs {
        // Negative addresses cannot occur (draws are non-negative).
        let r = mech.translate(VirtAddr::new_unchecked(va as u64), AccessKind::Read);
        match r {
            Ok(pa) => {
                explain.push(format!(
                    "VA {va:#06x} ({va}): {va} < limit {limit}, so valid; PA = base {base} + {va} = {} ({:#06x})",
                    pa.as_u64(),
                    pa.as_u64()
                ));
                answers.push(json!({"va": va, "valid": true, "pa": pa.as_u64()}));
            }
            Err(_) => {
                explain.push(format!(
                    "VA {va:#06x} ({va}): {va} >= limit {limit}: SEGMENTATION VIOLATION (out of bounds)"
                ));
                answers.push(json!({"va": va, "valid": false, "pa": null}));
            }
        }
    }
    Case {
        problem: Some(
            json!({"asize": asize, "psize": psize, "base": base, "limit": limit, "vaddrs": vaddrs}),
        ),
        answers: Some(answers),
        summary: None,
        error: None,
        explain,
    }
}
