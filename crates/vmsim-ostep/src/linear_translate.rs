//! OSTEP's `paging-linear-translate.py` (vm-paging): a linear page table generated from the
//! seed, and addresses translated through vmsim's linear-table mechanism (with the
//! simulator's 32-bit address mask).

use crate::args::{self, convert, py_int, Opt};
use crate::pyrandom::PyRandom;
use crate::{usage, Case};
use serde_json::json;
use vmsim_core::translate::linear::LinearTable;
use vmsim_core::translate::{Translate, TranslateFault};
use vmsim_core::{AccessKind, PageSize, VirtAddr};

/// The script's options, in its order (its `-h` lists them so).
pub(crate) const OPTS: &[Opt] = &[
    Opt::text('A', "addresses", "-1").doc(
        "ADDRESSES",
        "a set of comma-separated pages to access; -1 means randomly generate",
    ),
    Opt::int('s', "seed", "0").doc("SEED", "the random seed"),
    Opt::text('a', "asize", "16k").doc("ASIZE", "address space size (e.g., 16, 64k, 32m, 1g)"),
    Opt::text('p', "physmem", "64k").doc("PSIZE", "physical memory size (e.g., 16, 64k, 32m, 1g)"),
    Opt::text('P', "pagesize", "4k").doc("PAGESIZE", "page size (e.g., 4k, 8k, whatever)"),
    Opt::int('n', "numaddrs", "5").doc("NUM", "number of virtual addresses to generate"),
    Opt::int('u', "used", "50").doc("USED", "percent of virtual address space that is used"),
    Opt::flag('v', "").doc("", "verbose mode"),
    Opt::flag('c', "").doc("", "compute answers for me"),
];

fn err(code: &str, why: &str) -> Case {
    Case::fail(code, vec![], vec![why.to_string()])
}

/// Most physical pages (and so virtual pages, which are fewer) vmsim will simulate.
const MAX_PAGES: i64 = 1 << 22;

/// Runs the simulator.
pub fn run(argv: &[String]) -> Case {
    let o = match args::parse(argv, OPTS) {
        Ok(o) => o,
        Err(e) => return usage(e),
    };
    let mut rng = PyRandom::new(&o.big('s'));
    let mut sizes = [0i64; 3];
    for (i, c) in ['a', 'p', 'P'].into_iter().enumerate() {
        sizes[i] = match convert(o.str(c)) {
            Ok(v) => v,
            Err(e) => return Case::fail(e.code(), vec![], vec![]),
        };
    }
    let [asize, psize, page] = sizes;
    if psize <= 1 {
        return err(
            "psize_too_small",
            "physical memory must be larger than 1 byte",
        );
    }
    if asize < 1 {
        return err("asize_zero", "the address space must not be empty");
    }
    if psize <= asize {
        return err(
            "psize_not_greater_than_asize",
            "physical memory must be larger than the address space",
        );
    }
    if psize >= 1 << 30 || asize >= 1 << 30 {
        return err("size_too_large", "sizes must be below 1 GiB");
    }
    if page == 0 {
        return err("exception:ZeroDivisionError", "page size 0");
    }
    if asize.rem_euclid(page) != 0 {
        return err(
            "asize_not_multiple_of_pagesize",
            "the address space is not a whole number of pages",
        );
    }
    if psize.rem_euclid(page) != 0 {
        return err(
            "psize_not_multiple_of_pagesize",
            "physical memory is not a whole number of pages",
        );
    }
    let pow2 =
        |x: i64| x > 0 && 2f64.powi(((x as f64).ln() / 2f64.ln()).trunc() as i32) == x as f64;
    if !pow2(asize) {
        return err(
            "asize_not_power_of_2",
            "the address-space size must be a power of two",
        );
    }
    if !pow2(page) {
        return err(
            "pagesize_not_power_of_2",
            "the page size must be a power of two",
        );
    }
    let vpages = (asize / page) as usize;
    let ppages = psize / page;
    // vmsim's own limit, on the linear table only: the original would build (slowly) a
    // table this large; vmsim refuses rather than exhaust memory. Physical memory of any
    // size the script accepts (under 1 GB) is fine: only the frames taken are remembered.
    if vpages as i64 > MAX_PAGES {
        return err(
            "too_many_pages",
            "a linear table of more than 2^22 entries: use a larger page size",
        );
    }
    let used = o.int('u');
    let mut taken = std::collections::HashSet::new();
    let mut table: Vec<Option<u64>> = Vec::with_capacity(vpages);
    for _ in 0..vpages {
        loop {
            if rng.random() * 100.0 > (100 - used) as f64 {
                let pfn = rng.below(ppages as f64);
                if taken.insert(pfn) {
                    table.push(Some(pfn as u64));
                    break;
                }
            } else {
                table.push(None);
                break;
            }
        }
    }
    let Ok(page_size) = PageSize::try_from_bytes(page as u64) else {
        return err("pagesize_not_power_of_2", "unsupported page size");
    };
    let mech = LinearTable {
        page_size,
        entries: table.clone(),
        entry_bytes: 4,
        mask_bits: Some(32),
    };
    let vaddrs: Vec<i64> = if o.str('A') == "-1" {
        (0..o.int('n').max(0))
            .map(|_| rng.below(asize as f64))
            .collect()
    } else {
        let mut v = Vec::new();
        for s in o.str('A').split(',') {
            match py_int(s, 10).and_then(|b| b.to_i64()) {
                Some(x) => v.push(x),
                None => return Case::fail("exception:ValueError", vec![], vec![]),
            }
        }
        v
    };
    let offset_bits = page_size.shift();
    let mut answers = Vec::new();
    let mut explain = Vec::new();
    for &va in &vaddrs {
        let raw = va as u64;
        let vpn = mech.vpn(raw);
        let off = va.rem_euclid(page);
        // The script masks with 0xFFFFFFFF before taking the VPN: above 2^32 (or below 0)
        // the high bits fall away, as the derivation shows.
        let (masked, src) = if raw >> 32 != 0 {
            (
                format!(
                    "the script's 32-bit mask keeps VA & 0xffffffff = {:#010x}; ",
                    raw & 0xffff_ffff
                ),
                format!("{:#010x}", raw & 0xffff_ffff),
            )
        } else {
            (String::new(), va.to_string())
        };
        match mech.translate(VirtAddr::new_unchecked(raw), AccessKind::Read) {
            Ok(_) => {
                let pfn = table[vpn as usize].unwrap_or(0) as i64;
                let pa = pfn * page + off;
                explain.push(format!(
                    "VA {va:#010x} ({va}): {masked}VPN = {src} >> {offset_bits} = {vpn}, offset {off}; PTE[{vpn}] is valid with PFN {pfn}: PA = {pfn} x {page} + {off} = {pa} ({pa:#010x})"
                ));
                answers.push(json!({"va": va, "vpn": vpn, "valid": true, "pa": pa}));
            }
            Err(TranslateFault::BeyondTable { .. }) => {
                explain.push(format!(
                    "VA {va}: VPN {vpn} is past the {vpages}-entry table"
                ));
                return Case::fail("exception:IndexError", answers, explain);
            }
            Err(_) => {
                explain.push(format!(
                    "VA {va:#010x} ({va}): {masked}VPN = {vpn}; PTE[{vpn}] is invalid: fault"
                ));
                answers.push(json!({"va": va, "vpn": vpn, "valid": false, "pa": null}));
            }
        }
    }
    let pt: Vec<i64> = table.iter().map(|e| e.map_or(-1, |p| p as i64)).collect();
    Case {
        problem: Some(
            json!({"asize": asize, "psize": psize, "pagesize": page, "page_table": pt, "vaddrs": vaddrs}),
        ),
        answers: Some(answers),
        summary: None,
        error: None,
        explain,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_table_too_large_to_simulate_is_refused_not_allocated() {
        let args: Vec<String> = ["-a", "512m", "-p", "1000m", "-P", "1"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let case = super::run(&args);
        assert_eq!(case.error.as_deref(), Some("too_many_pages"));
        // 2^22 frames is still fine: 4 MiB of 1-byte pages, a 1 MiB address space.
        let args: Vec<String> = ["-a", "1m", "-p", "4m", "-P", "1", "-n", "1"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(super::run(&args).error, None);
        // Large physical memory with a small table answers (issue 23: -a 16 -p 5m -P 1).
        let args: Vec<String> = ["-a", "16", "-p", "5m", "-P", "1", "-c"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let case = super::run(&args);
        assert_eq!(case.error, None);
        assert_eq!(case.answers.map(|a| a.len()), Some(5));
    }
}
