//! paging-linear-translate.py (vm-paging): a linear page table and address translations,
//! printed as the script prints them; an address past the table fails only when solving, as
//! the script's `pt[vpn]` does.

use super::{exit, opt_int, opt_int_str, raise, End, Out};
use crate::args::Parsed;
use crate::py::{bool_str, convert, draw_below, hex, int};
use crate::pyrandom::PyRandom;
use std::path::Path;

/// `mustbemultipleof`: the float quotient must be whole.
fn multiple(out: &mut Out, big: i128, small: i128, msg: &str) -> Result<(), End> {
    if small == 0 {
        return Err(raise("ZeroDivisionError", "float division by zero"));
    }
    let q = big as f64 / small as f64;
    if q.trunc() != q {
        return exit(out, format!("Error in argument: {msg}"));
    }
    Ok(())
}

/// `int(math.log(float(x))/math.log(2.0))`, checked by `mustbepowerof2`.
fn log2_exact(out: &mut Out, x: i128, msg: &str) -> Result<i128, End> {
    if x <= 0 {
        return Err(raise("ValueError", "math domain error"));
    }
    let bits = ((x as f64).ln() / 2f64.ln()).trunc() as i128;
    let p = 2f64.powf(bits as f64);
    if p != x as f64 || p as i128 != x {
        exit(out, format!("Error in argument: {msg}"))?;
    }
    Ok(bits)
}

/// The script's flow.
pub fn run(o: &Parsed, out: &mut Out, _dir: &Path) -> Result<(), End> {
    let verbose = o.flag('v');
    out.line(format!("ARG seed {}", opt_int_str(o, 's')));
    out.line(format!("ARG address space size {}", o.str('a')));
    out.line(format!("ARG phys mem size {}", o.str('p')));
    out.line(format!("ARG page size {}", o.str('P')));
    out.line(format!("ARG verbose {}", bool_str(verbose)));
    out.line(format!("ARG addresses {}", o.str('A')));
    out.line("");
    let mut rng = PyRandom::new(&o.big('s'));
    let asize = convert(o.str('a'))?;
    let psize = convert(o.str('p'))?;
    let pagesize = convert(o.str('P'))?;
    if psize <= 1 {
        return exit(out, "Error: must specify a non-zero physical memory size.");
    }
    if asize < 1 {
        return exit(out, "Error: must specify a non-zero address-space size.");
    }
    if psize <= asize {
        return exit(out, "Error: physical memory size must be GREATER than address space size (for this simulation)");
    }
    if psize >= 1 << 30 || asize >= 1 << 30 {
        return exit(
            out,
            "Error: must use smaller sizes (less than 1 GB) for this simulation.",
        );
    }
    multiple(
        out,
        asize,
        pagesize,
        "address space must be a multiple of the pagesize",
    )?;
    multiple(
        out,
        psize,
        pagesize,
        "physical memory must be a multiple of the pagesize",
    )?;
    let pages = (psize as f64 / pagesize as f64).trunc() as i128;
    let vpages = (asize as f64 / pagesize as f64).trunc() as i128;
    log2_exact(out, asize, "address space must be a power of 2")?;
    let pagebits = log2_exact(out, pagesize, "page size must be a power of 2")?;
    let pagemask = (1i128 << pagebits) - 1;
    let vpnmask = 0xFFFF_FFFF & !pagemask;
    for l in [
        "",
        "The format of the page table is simple:",
        "The high-order (left-most) bit is the VALID bit.",
        "  If the bit is 1, the rest of the entry is the PFN.",
        "  If the bit is 0, the page is not valid.",
        "Use verbose mode (-v) if you want to print the VPN # by",
        "each entry of the page table.",
        "",
        "Page Table (from entry 0 down to the max size)",
    ] {
        out.line(l);
    }
    // One bit per frame and the script's own 32-bit entries (its `array('i')`): a table as
    // large as the script allows (under 1 GB of address space) stays within its footprint.
    let mut used = vec![0u64; (pages.max(0) as usize).div_ceil(64)];
    let mut pt: Vec<i32> = Vec::new();
    let threshold = 100.0 - opt_int(o, 'u') as f64;
    for v in 0..vpages.max(0) {
        let lead = if verbose {
            format!("  [{v:8}]  ")
        } else {
            "  ".into()
        };
        loop {
            if rng.random() * 100.0 > threshold {
                let u = draw_below(pages, rng.random()) as usize;
                if used[u / 64] & (1 << (u % 64)) == 0 {
                    used[u / 64] |= 1 << (u % 64);
                    out.line(format!("{lead}0x{}", hex(0x8000_0000 | u as i128, 8)));
                    pt.push(u as i32);
                    break;
                }
            } else {
                out.line(format!("{lead}0x{}", hex(0, 8)));
                pt.push(-1);
                break;
            }
        }
    }
    out.line("");
    let list: Vec<String> = if o.str('A') == "-1" {
        let mut v = Vec::new();
        let mut i = 0i128;
        while i < opt_int(o, 'n') {
            v.push(draw_below(asize, rng.random()).to_string());
            i += 1;
        }
        v
    } else {
        o.str('A').split(',').map(str::to_string).collect()
    };
    out.line("Virtual Address Trace");
    let solve = o.flag('c');
    for text in &list {
        let va = int(text)?;
        let head = format!("  VA 0x{} (decimal: {va:8}) -->", hex(va, 8));
        if !solve {
            out.line(format!("{head} PA or invalid address?"));
            continue;
        }
        let vpn = (va & vpnmask) >> pagebits;
        let Some(&pfn) = pt.get(vpn as usize) else {
            return Err(raise("IndexError", "array index out of range"));
        };
        if pfn < 0 {
            out.line(format!("{head}  Invalid (VPN {vpn} not valid)"));
        } else {
            let pa = ((pfn as i128) << pagebits) | (va & pagemask);
            out.line(format!(
                "{head} {} (decimal {pa:8}) [VPN {vpn}]",
                hex(pa, 8)
            ));
        }
    }
    out.line("");
    if !solve {
        out.line("For each virtual address, write down the physical address it translates to");
        out.line("OR write down that it is an out-of-bounds address (e.g., segfault).");
        out.line("");
    }
    Ok(())
}
