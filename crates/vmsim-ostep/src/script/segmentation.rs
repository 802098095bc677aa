//! segmentation.py (vm-segmentation): two segments growing apart, printed as the script does.

use super::{abort_if, endless, opt_int, opt_int_str, seeded, End, Out};
use crate::args::Parsed;
use crate::py::{convert, draw_below, hex, int};
use std::path::Path;

/// The script's flow.
pub fn run(o: &Parsed, out: &mut Out, _dir: &Path) -> Result<(), End> {
    out.line(format!("ARG seed {}", opt_int_str(o, 's')));
    out.line(format!("ARG address space size {}", o.str('a')));
    out.line(format!("ARG phys mem size {}", o.str('p')));
    out.line("");
    let mut rng = seeded(o, 's');
    let asize = convert(o.str('a'))?;
    let psize = convert(o.str('p'))?;
    let addresses = o.str('A');
    abort_if(
        out,
        psize <= 4,
        "must specify a bigger physical memory size",
    )?;
    abort_if(
        out,
        asize == 0,
        "must specify a non-zero address-space size",
    )?;
    abort_if(
        out,
        psize <= asize,
        "physical memory size > address space size (for this simulation)",
    )?;
    let mut len0 = convert(o.str('l'))?;
    let mut len1 = convert(o.str('L'))?;
    let mut base0 = convert(o.str('b'))?;
    let mut base1 = convert(o.str('B'))?;
    let quarter = asize as f64 / 4.0;
    if len0 == -1 {
        len0 = (quarter + quarter * rng.random()).trunc() as i128;
    }
    if len1 == -1 {
        len1 = (quarter + quarter * rng.random()).trunc() as i128;
    }
    if base0 == -1 || base1 == -1 {
        abort_if(out, psize <= 2 * asize, "physical memory must be 2x GREATER than address space size (if randomly generating base registers)")?;
    }
    if base0 == -1 {
        if len0 >= psize {
            return Err(endless("segment 0 is as large as physical memory"));
        }
        loop {
            base0 = draw_below(psize, rng.random());
            if base0 + len0 < psize {
                break;
            }
        }
    }
    if base1 == -1 {
        // Room above segment 0 or below it, within physical memory.
        let above = (base0 + len0 + 1).max(0) < psize - len1;
        let below = base0 - len1 > 0 && psize - len1 > 0;
        if !above && !below {
            return Err(endless("no place for segment 1 beside segment 0"));
        }
        loop {
            base1 = draw_below(psize, rng.random());
            if base1 + len1 < psize && (base1 > base0 + len0 || base1 + len1 < base0) {
                break;
            }
        }
    } else {
        base1 -= len1;
    }
    abort_if(
        out,
        psize < base0 + len0 - 1,
        "seg0 is not in physical memory",
    )?;
    abort_if(out, psize < base1, "seg1 is not in physical memory")?;
    abort_if(
        out,
        len0 as f64 > asize as f64 / 2.0,
        "length0 register is too large for this address space",
    )?;
    abort_if(
        out,
        len1 as f64 > asize as f64 / 2.0,
        "length1 register is too large for this address space",
    )?;
    out.line("Segment register information:");
    out.line("");
    out.line(format!(
        "  Segment 0 base  (grows positive) : 0x{} (decimal {base0})",
        hex(base0, 8)
    ));
    out.line(format!("  Segment 0 limit                  : {len0}"));
    out.line("");
    let nbase1 = base1 + len1;
    out.line(format!(
        "  Segment 1 base  (grows negative) : 0x{} (decimal {nbase1})",
        hex(nbase1, 8)
    ));
    out.line(format!("  Segment 1 limit                  : {len1}"));
    out.line("");
    abort_if(
        out,
        len0 + base0 > base1 && base1 > base0,
        "segments overlap in physical memory",
    )?;
    let list: Vec<String> = if addresses == "-1" {
        let mut v = Vec::new();
        let mut i = 0i128;
        while i < opt_int(o, 'n') {
            v.push(draw_below(asize, rng.random()).to_string());
            i += 1;
        }
        v
    } else {
        addresses.split(',').map(str::to_string).collect()
    };
    out.line("Virtual Address Trace");
    let solve = o.flag('c');
    for (i, text) in list.iter().enumerate() {
        let va = int(text)?;
        if va < 0 || va >= asize {
            return super::exit(out, format!("Error: virtual address {va} cannot be generated in an address space of size {asize}"));
        }
        let head = format!("  VA {i:2}: 0x{} (decimal: {va:4}) -->", hex(va, 8));
        if !solve {
            out.line(format!("{head} PA or segmentation violation?"));
        } else if va as f64 >= asize as f64 / 2.0 {
            let pa = nbase1 + (va - asize);
            if pa < base1 {
                out.line(format!("{head} SEGMENTATION VIOLATION (SEG1)"));
            } else {
                out.line(format!(
                    "{head} VALID in SEG1: 0x{} (decimal: {pa:4})",
                    hex(pa, 8)
                ));
            }
        } else if va >= len0 {
            out.line(format!("{head} SEGMENTATION VIOLATION (SEG0)"));
        } else {
            let pa = va + base0;
            out.line(format!(
                "{head} VALID in SEG0: 0x{} (decimal: {pa:4})",
                hex(pa, 8)
            ));
        }
    }
    out.line("");
    if !solve {
        for l in [
            "For each virtual address, either write down the physical address it translates to",
            "OR write down that it is an out-of-bounds address (a segmentation violation). For",
            "this problem, you should assume a simple address space with two segments: the top",
            "bit of the virtual address can thus be used to check whether the virtual address",
            "is in segment 0 (topbit=0) or segment 1 (topbit=1). Note that the base/limit pairs",
            "given to you grow in different directions, depending on the segment, i.e., segment 0",
            "grows in the positive direction, whereas segment 1 in the negative. ",
            "",
        ] {
            out.line(l);
        }
    }
    Ok(())
}
