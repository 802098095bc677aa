//! OSTEP's `segmentation.py` (vm-segmentation): two segments, segment 0 growing up from its
//! base and segment 1 (the stack) growing down, selected by which half of the address space
//! an address lies in. Solved by vmsim's segmentation mechanism with the `Halves` selector.

use crate::args::{self, py_int, Opt};
use crate::pyrandom::PyRandom;
use crate::{usage, Case};
use serde_json::json;
use vmsim_core::translate::segmentation::{Segment, Segmentation, Selector};
use vmsim_core::translate::Translate;
use vmsim_core::{AccessKind, VirtAddr};

/// The script's options, in its order (its `-h` lists them so).
pub(crate) const OPTS: &[Opt] = &[
    Opt::int('s', "seed", "0").doc("SEED", "the random seed"),
    Opt::text('A', "addresses", "-1").doc(
        "ADDRESSES",
        "a set of comma-separated pages to access; -1 means randomly generate",
    ),
    Opt::text('a', "asize", "1k").doc("ASIZE", "address space size (e.g., 16, 64k, 32m, 1g)"),
    Opt::text('p', "physmem", "16k").doc("PSIZE", "physical memory size (e.g., 16, 64k, 32m, 1g)"),
    Opt::int('n', "numaddrs", "5").doc("NUM", "number of virtual addresses to generate"),
    Opt::text('b', "b0", "-1").doc("BASE0", "value of segment 0 base register"),
    Opt::text('l', "l0", "-1").doc("LEN0", "value of segment 0 limit register"),
    Opt::text('B', "b1", "-1").doc("BASE1", "value of segment 1 base register"),
    Opt::text('L', "l1", "-1").doc("LEN1", "value of segment 1 limit register"),
    Opt::flag('c', "").doc("", "compute answers for me"),
];

fn err(code: &str, why: String) -> Case {
    Case::fail(code, vec![], vec![why])
}

/// Runs the simulator.
pub fn run(argv: &[String]) -> Case {
    let o = match args::parse(argv, OPTS) {
        Ok(o) => o,
        Err(e) => return usage(e),
    };
    let mut rng = PyRandom::new(&o.big('s'));
    let asize = converted!(o.str('a'));
    let psize = converted!(o.str('p'));
    if psize <= 4 {
        return err(
            "psize_too_small",
            "physical memory must be larger than 4 bytes".into(),
        );
    }
    if asize == 0 {
        return err("asize_zero", "the address space must not be empty".into());
    }
    if psize <= asize {
        return err(
            "psize_not_greater_than_asize",
            "physical memory must be larger than the address space".into(),
        );
    }
    let draw_limit = |rng: &mut PyRandom| {
        let q = asize as f64 / 4.0;
        (q + q * rng.random()).trunc() as i64
    };
    let len0 = if o.str('l') == "-1" {
        draw_limit(&mut rng)
    } else {
        converted!(o.str('l'))
    };
    let len1 = if o.str('L') == "-1" {
        draw_limit(&mut rng)
    } else {
        converted!(o.str('L'))
    };
    let random0 = o.str('b') == "-1";
    let random1 = o.str('B') == "-1";
    if (random0 || random1) && psize <= 2 * asize {
        return err(
            "psize_not_2x_asize",
            "random bases need physical memory of more than twice the address space".into(),
        );
    }
    let base0 = if random0 {
        if len0 >= psize {
            return err(
                "no_base_fits",
                format!(
                    "no base makes segment 0 (size {len0}) fit: the original would loop forever"
                ),
            );
        }
        loop {
            let b = rng.below(psize as f64);
            if b + len0 < psize {
                break b;
            }
        }
    } else {
        converted!(o.str('b'))
    };
    let low1 = if random1 {
        let mut tries = 0u64;
        loop {
            let l = rng.below(psize as f64);
            if l + len1 < psize && (l > base0 + len0 || l + len1 < base0) {
                break l;
            }
            tries += 1;
            // No position can ever satisfy the conditions: the original would loop forever.
            if tries > 1 << 22
                && !(0..psize).any(|l| l + len1 < psize && (l > base0 + len0 || l + len1 < base0))
            {
                return err(
                    "no_base_fits",
                    "no base fits segment 1 beside segment 0: the original would loop forever"
                        .into(),
                );
            }
        }
    } else {
        converted!(o.str('B')) - len1
    };
    if psize < base0 + len0 - 1 {
        return err(
            "seg0_not_in_physmem",
            "segment 0 does not fit in physical memory".into(),
        );
    }
    if psize < low1 {
        return err(
            "seg1_not_in_physmem",
            "segment 1 does not fit in physical memory".into(),
        );
    }
    if len0 as f64 > asize as f64 / 2.0 {
        return err(
            "limit0_too_large",
            "segment 0 is larger than half the address space".into(),
        );
    }
    if len1 as f64 > asize as f64 / 2.0 {
        return err(
            "limit1_too_large",
            "segment 1 is larger than half the address space".into(),
        );
    }
    if base0 < low1 && low1 < base0 + len0 {
        return err(
            "segments_overlap",
            "the segments overlap in physical memory".into(),
        );
    }
    let top1 = low1 + len1;
    let mech = Segmentation {
        segments: vec![
            Segment::up(base0 as u64, len0 as u64),
            Segment::down(top1 as u64, len1 as u64),
        ],
        selector: Selector::Halves {
            asize: asize as u64,
        },
    };
    // Addresses: drawn, or the -A list converted one at a time while answering.
    let given: Option<Vec<String>> =
        (o.str('A') != "-1").then(|| o.str('A').split(',').map(str::to_string).collect());
    let n = o.int('n').max(0);
    let drawn: Vec<i64> = match &given {
        None => (0..n).map(|_| rng.below(asize as f64)).collect(),
        Some(_) => Vec::new(),
    };
    let count = given.as_ref().map_or(drawn.len(), Vec::len);
    let mut vaddrs = Vec::new();
    let mut answers = Vec::new();
    let mut explain = Vec::new();
    for i in 0..count {
        let va = match &given {
            None => drawn[i],
            Some(list) => match py_int(&list[i], 10).and_then(|b| b.to_i64()) {
                Some(v) => v,
                None => return Case::fail("exception:ValueError", answers, explain),
            },
        };
        if va < 0 || va >= asize {
            explain.push(format!("VA {va}: outside the {asize}-byte address space"));
            return Case::fail("vaddr_out_of_range", answers, explain);
        }
        vaddrs.push(va);
        let sel = mech.select(va as u64);
        let seg = sel.map_or(0, |s| s.segment);
        match mech.translate(VirtAddr::new_unchecked(va as u64), AccessKind::Read) {
            Ok(pa) => {
                // The mechanism adds modulo 2^64: read as signed, the sum is the script's
                // (segment 1 based below its size gives an address below zero, `0x-00000ac`).
                let p = pa.as_u64() as i64;
                let hex = crate::py::hex(p as i128, 4);
                explain.push(if seg == 0 {
                    format!("VA {va:#06x} ({va}) is in the lower half: segment 0, offset {va} < limit {len0}: PA = {base0} + {va} = {p} (0x{hex})")
                } else {
                    let off = va - asize;
                    format!("VA {va:#06x} ({va}) is in the upper half: segment 1 (grows down), offset {va} - {asize} = {off}, |{off}| <= limit {len1}: PA = {top1} + ({off}) = {p} (0x{hex})")
                });
                answers.push(json!({"va": va, "seg": seg, "valid": true, "pa": p}));
            }
            Err(_) => {
                explain.push(if seg == 0 {
                    format!("VA {va:#06x} ({va}) is in the lower half: segment 0, offset {va} >= limit {len0}: SEGMENTATION VIOLATION")
                } else {
                    let off = va - asize;
                    format!("VA {va:#06x} ({va}) is in the upper half: segment 1, offset {off}, |{off}| > limit {len1}: SEGMENTATION VIOLATION")
                });
                answers.push(json!({"va": va, "seg": seg, "valid": false, "pa": null}));
            }
        }
    }
    Case {
        problem: Some(json!({
            "asize": asize, "psize": psize,
            "seg0": {"base": base0, "limit": len0},
            "seg1": {"base": top1, "limit": len1},
            "vaddrs": vaddrs,
        })),
        answers: Some(answers),
        summary: None,
        error: None,
        explain,
    }
}
