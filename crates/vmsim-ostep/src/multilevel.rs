//! OSTEP's `paging-multilevel-translate.py` (vm-smalltables): 128 frames of 32 bytes, a page
//! directory and page tables of one-byte entries (valid bit 7, frame in bits 0..6), filled
//! from the seed as the original does, and addresses walked by vmsim's byte-radix mechanism.

use crate::args::{self, Opt};
use crate::pyrandom::PyRandom;
use crate::{usage, Case};
use serde_json::{json, Value};
use vmsim_core::translate::byte_radix::{ByteRadix, EntryFormat};

/// The script's options, in its order (its `-h` lists them so).
pub(crate) const OPTS: &[Opt] = &[
    Opt::int('s', "seed", "0").doc("SEED", "the random seed"),
    Opt::int('a', "allocated", "64").doc("ALLOCATED", "number of virtual pages allocated"),
    Opt::int('n', "addresses", "10").doc("NUM", "number of virtual addresses to generate"),
    Opt::flag('c', "solve").doc("", "compute answers for me"),
];

const FRAMES: usize = 128;
const PAGE: usize = 32;

struct Machine {
    memory: Vec<u8>,
    used: [bool; FRAMES],
}

impl Machine {
    /// Repeats int(128 * draw) until a free frame comes up; `None` when none is free.
    fn grab(&mut self, rng: &mut PyRandom) -> Option<usize> {
        if self.used.iter().all(|&u| u) {
            return None;
        }
        loop {
            let f = rng.below(FRAMES as f64) as usize;
            if !self.used[f] {
                self.used[f] = true;
                return Some(f);
            }
        }
    }

    fn fill(&mut self, frame: usize, byte: u8) {
        self.memory[frame * PAGE..(frame + 1) * PAGE].fill(byte);
    }
}

fn entry_json(s: &vmsim_core::translate::byte_radix::ByteStep) -> Value {
    json!({"index": s.index, "value": s.value, "valid": s.valid, "pfn": s.pfn})
}

/// Runs the simulator.
pub fn run(argv: &[String]) -> Case {
    let o = match args::parse(argv, OPTS) {
        Ok(o) => o,
        Err(e) => return usage(e),
    };
    let mut rng = PyRandom::new(&o.big('s'));
    let mut m = Machine {
        memory: vec![0; FRAMES * PAGE],
        used: [false; FRAMES],
    };
    let assertion = || {
        Case::fail(
            "exception:AssertionError",
            vec![],
            vec!["out of physical frames".into()],
        )
    };
    let Some(pdbr) = m.grab(&mut rng) else {
        return assertion();
    };
    m.fill(pdbr, 0x7f);
    let a = o.int('a').max(0) as usize;
    let mut vpns: Vec<usize> = Vec::new();
    for _ in 0..a {
        let vpn = loop {
            let v = rng.below(1024.0) as usize;
            if !vpns.contains(&v) {
                break v;
            }
        };
        vpns.push(vpn);
        let Some(data) = m.grab(&mut rng) else {
            return assertion();
        };
        let pde_addr = pdbr * PAGE + (vpn >> 5);
        if m.memory[pde_addr] & 0x80 == 0 {
            let Some(pt) = m.grab(&mut rng) else {
                return assertion();
            };
            m.memory[pde_addr] = 0x80 | pt as u8;
            m.fill(pt, 0x7f);
        }
        let pt = (m.memory[pde_addr] & 0x7f) as usize;
        m.memory[pt * PAGE + (vpn & 31)] = 0x80 | data as u8;
        for i in 0..PAGE {
            m.memory[data * PAGE + i] = rng.below(31.0) as u8;
        }
    }
    let n = o.int('n').max(0) as usize;
    let mut vaddrs = Vec::new();
    for i in 0..n {
        let d = rng.random();
        let va = match vpns.get(i) {
            Some(&vpn) if d * 100.0 <= 50.0 && i < a => (vpn * 32) as u64 + rng.below(32.0) as u64,
            _ => rng.below(1024.0 * 32.0) as u64,
        };
        vaddrs.push(va);
    }
    let mech = ByteRadix {
        memory: m.memory.clone(),
        root: pdbr as u64,
        page_shift: 5,
        level_bits: vec![5, 5],
        entry: EntryFormat {
            bytes: 1,
            valid_bit: 7,
            pfn_mask: 0x7f,
        },
    };
    let mut answers = Vec::new();
    let mut explain = Vec::new();
    for &va in &vaddrs {
        let (steps, r) = mech.walk(va);
        let pde = &steps[0];
        let mut line = format!(
            "VA {va:#06x}: PDE index {} (bits 14..10) -> byte at {:#x} = {:#04x}, valid {}",
            pde.index, pde.addr, pde.value, pde.valid
        );
        let pte = steps.get(1);
        if let Some(p) = pte {
            line.push_str(&format!(
                "; PT in frame {}: PTE index {} (bits 9..5) -> byte at {:#x} = {:#04x}, valid {}",
                pde.pfn, p.index, p.addr, p.value, p.valid
            ));
        }
        let (result, pa, value) = match r {
            Ok(p) => {
                let v = m.memory[p as usize];
                line.push_str(&format!(
                    "; PA = {} x 32 + {} = {p:#x}, which holds {v:#04x}",
                    pte.map_or(0, |x| x.pfn),
                    va & 31
                ));
                ("ok", json!(p), json!(v))
            }
            Err(0) => {
                line.push_str(": FAULT (page directory entry not valid)");
                ("pde_fault", Value::Null, Value::Null)
            }
            Err(_) => {
                line.push_str(": FAULT (page table entry not valid)");
                ("pte_fault", Value::Null, Value::Null)
            }
        };
        explain.push(line);
        answers.push(json!({
            "va": va,
            "pde": entry_json(pde),
            "pte": pte.map(entry_json),
            "result": result,
            "pa": pa,
            "value": value,
        }));
    }
    let memory: Vec<String> = m
        .memory
        .chunks(PAGE)
        .map(|c| c.iter().map(|b| format!("{b:02x}")).collect())
        .collect();
    Case {
        problem: Some(json!({"pdbr": pdbr, "memory": memory, "vaddrs": vaddrs})),
        answers: Some(answers),
        summary: None,
        error: None,
        explain,
    }
}
