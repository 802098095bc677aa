//! OSTEP's `relocation.py` (vm-mechanism): base and bounds. The problem is generated from the
//! seed as the original does; each address is translated by vmsim's base-and-bounds mechanism.
//! The addresses are drawn one at a time ([`Problem::questions`]), so `-n` in the billions
//! prints in constant memory; [`run`] collects them for the golden schema.

use crate::args::{self, Opt};
use crate::pyrandom::PyRandom;
use crate::{usage, Case};
use serde_json::{json, Value};
use vmsim_core::translate::base_bounds::BaseBounds;
use vmsim_core::translate::Translate;
use vmsim_core::{AccessKind, VirtAddr};

/// The script's options, in its order (its `-h` lists them so).
pub(crate) const OPTS: &[Opt] = &[
    Opt::int('s', "seed", "0").doc("SEED", "the random seed"),
    Opt::text('a', "asize", "1k").doc("ASIZE", "address space size (e.g., 16, 64k, 32m, 1g)"),
    Opt::text('p', "physmem", "16k").doc("PSIZE", "physical memory size (e.g., 16, 64k, 32m, 1g)"),
    Opt::int('n', "addresses", "5").doc("NUM", "number of virtual addresses to generate"),
    Opt::text('b', "b", "-1").doc("BASE", "value of base register"),
    Opt::text('l', "l", "-1").doc("LIMIT", "value of limit register"),
    Opt::flag('c', "compute").doc("", "compute answers for me"),
];

/// A generated problem: the registers, and the seeded generator positioned at its addresses.
#[derive(Clone)]
pub struct Problem {
    /// Address-space size.
    pub asize: i64,
    /// Physical-memory size.
    pub psize: i64,
    /// Base register.
    pub base: i64,
    /// Limit register.
    pub limit: i64,
    /// Addresses asked about.
    pub count: u64,
    rng: PyRandom,
}

/// One address asked about, its answer (golden-schema JSON) and its derivation.
pub struct Question {
    /// The virtual address.
    pub va: i64,
    /// `{"va", "valid", "pa"}`.
    pub answer: Value,
    /// How the answer follows.
    pub explain: String,
}

impl Problem {
    /// The addresses in order, each drawn and translated when asked for.
    pub fn questions(&self) -> impl Iterator<Item = Question> {
        let mut rng = self.rng.clone();
        let (asize, base, limit) = (self.asize, self.base, self.limit);
        let mech = BaseBounds {
            base: base as u64,
            bounds: limit as u64,
        };
        (0..self.count).map(move |_| {
            let va = rng.below(asize as f64);
            // Negative addresses cannot occur (draws are non-negative).
            match mech.translate(VirtAddr::new_unchecked(va as u64), AccessKind::Read) {
                Ok(pa) => {
                    // The mechanism adds modulo 2^64: read as signed, the sum is the script's
                    // (a base below zero gives an address below zero, `0x-0000050`).
                    let pa = pa.as_u64() as i64;
                    Question {
                        va,
                        answer: json!({"va": va, "valid": true, "pa": pa}),
                        explain: format!(
                            "VA {va:#06x} ({va}): {va} < limit {limit}, so valid; PA = base {base} + {va} = {pa} (0x{})",
                            crate::py::hex(pa as i128, 4)
                        ),
                    }
                }
                Err(_) => Question {
                    va,
                    answer: json!({"va": va, "valid": false, "pa": null}),
                    explain: format!(
                        "VA {va:#06x} ({va}): {va} >= limit {limit}: SEGMENTATION VIOLATION (out of bounds)"
                    ),
                },
            }
        })
    }
}

/// Runs the simulator.
pub fn run(argv: &[String]) -> Case {
    match generate(argv) {
        Ok(p) => {
            let mut vaddrs = Vec::new();
            let mut answers = Vec::new();
            let mut explain = Vec::new();
            for q in p.questions() {
                vaddrs.push(q.va);
                answers.push(q.answer);
                explain.push(q.explain);
            }
            Case {
                problem: Some(json!({"asize": p.asize, "psize": p.psize, "base": p.base,
                    "limit": p.limit, "vaddrs": vaddrs})),
                answers: Some(answers),
                summary: None,
                error: None,
                explain,
            }
        }
        Err(case) => *case,
    }
}

/// The problem the command line asks for, or the failed case.
pub fn generate(argv: &[String]) -> Result<Problem, Box<Case>> {
    let fail = |c: Case| Err(Box::new(c));
    // `converted!` returns a failed case; here it is an error.
    macro_rules! converted {
        ($e:expr) => {
            match crate::args::convert($e) {
                Ok(v) => v,
                Err(e) => return fail(Case::fail(e.code(), vec![], vec![])),
            }
        };
    }
    let o = match args::parse(argv, OPTS) {
        Ok(o) => o,
        Err(e) => return fail(usage(e)),
    };
    let mut rng = PyRandom::new(&o.big('s'));
    let asize = converted!(o.str('a'));
    let psize = converted!(o.str('p'));
    if psize <= 1 {
        return fail(Case::fail(
            "psize_too_small",
            vec![],
            vec!["physical memory must be larger than 1 byte".into()],
        ));
    }
    if asize == 0 {
        return fail(Case::fail(
            "asize_zero",
            vec![],
            vec!["the address space must not be empty".into()],
        ));
    }
    if psize <= asize {
        return fail(Case::fail(
            "psize_not_greater_than_asize",
            vec![],
            vec!["physical memory must be larger than the address space".into()],
        ));
    }
    let limit = if o.str('l') == "-1" {
        let q = asize as f64 / 4.0;
        (q + q * rng.random()).trunc() as i64
    } else {
        converted!(o.str('l'))
    };
    let base = if o.str('b') == "-1" {
        if limit >= psize {
            return fail(Case::fail(
                "no_base_fits",
                vec![],
                vec![format!("no base makes a limit of {limit} fit below {psize}: the original would loop forever")],
            ));
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
        return fail(Case::fail(
            "does_not_fit",
            vec![],
            vec![format!(
                "base {base} + limit {limit} is beyond physical memory ({psize})"
            )],
        ));
    }
    Ok(Problem {
        asize,
        psize,
        base,
        limit,
        count: o.int('n').max(0) as u64,
        rng,
    })
}
