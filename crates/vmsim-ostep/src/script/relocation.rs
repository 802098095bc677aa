//! relocation.py (vm-mechanism): base-and-bounds problems, printed as the script prints them.

use super::{endless, exit, opt_int, opt_int_str, seeded, End, Out};
use crate::args::Parsed;
use crate::py::{convert, draw_below, hex};
use std::path::Path;

/// The script's flow.
pub fn run(o: &Parsed, out: &mut Out, _dir: &Path) -> Result<(), End> {
    out.line("");
    out.line(format!("ARG seed {}", opt_int_str(o, 's')));
    out.line(format!("ARG address space size {}", o.str('a')));
    out.line(format!("ARG phys mem size {}", o.str('p')));
    out.line("");
    let mut rng = seeded(o, 's');
    let asize = convert(o.str('a'))?;
    let psize = convert(o.str('p'))?;
    if psize <= 1 {
        return exit(out, "Error: must specify a non-zero physical memory size.");
    }
    if asize == 0 {
        return exit(out, "Error: must specify a non-zero address-space size.");
    }
    if psize <= asize {
        return exit(out, "Error: physical memory size must be GREATER than address space size (for this simulation)");
    }
    let mut limit = convert(o.str('l'))?;
    let mut base = convert(o.str('b'))?;
    if limit == -1 {
        let q = asize as f64 / 4.0;
        limit = (q + q * rng.random()).trunc() as i128;
    }
    if base == -1 {
        if limit >= psize {
            return Err(endless("no base puts base + limit below physical memory"));
        }
        loop {
            base = draw_below(psize, rng.random());
            if base + limit < psize {
                break;
            }
        }
    }
    out.line("Base-and-Bounds register information:");
    out.line("");
    out.line(format!("  Base   : 0x{} (decimal {base})", hex(base, 8)));
    out.line(format!("  Limit  : {limit}"));
    out.line("");
    if base + limit > psize {
        out.line(
            "Error: address space does not fit into physical memory with those base/bounds values.",
        );
        return exit(
            out,
            format!("Base + Limit: {}   Psize: {psize}", base + limit),
        );
    }
    out.line("Virtual Address Trace");
    let solve = o.flag('c');
    let mut i = 0i128;
    while i < opt_int(o, 'n') {
        let va = draw_below(asize, rng.random());
        let head = format!("  VA {i:2}: 0x{} (decimal: {va:4}) -->", hex(va, 8));
        if !solve {
            out.line(format!("{head} PA or segmentation violation?"));
        } else if va >= limit {
            out.line(format!("{head} SEGMENTATION VIOLATION"));
        } else {
            let pa = va + base;
            out.line(format!("{head} VALID: 0x{} (decimal: {pa:4})", hex(pa, 8)));
        }
        i += 1;
    }
    out.line("");
    if !solve {
        out.line(
            "For each virtual address, either write down the physical address it translates to",
        );
        out.line(
            "OR write down that it is an out-of-bounds address (a segmentation violation). For",
        );
        out.line("this problem, you should assume a simple virtual address space of a given size.");
        out.line("");
    }
    Ok(())
}
