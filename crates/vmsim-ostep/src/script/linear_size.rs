//! The older paging-linear-size.py: how big a linear page table is, with Python's unbounded
//! integers, its floats (`repr`) and its OverflowError for a table beyond a double.

use super::{raise, End, Out};
use crate::args::Parsed;
use crate::py::{convert, float_int_str, float_repr, int};
use std::path::Path;

/// `math.pow(2, n)`: 0.0 far below, OverflowError from 2^1024 up.
fn pow2(n: i128) -> Result<f64, End> {
    if n >= 1024 {
        return Err(raise("OverflowError", "math range error"));
    }
    Ok(2f64.powf(n.max(-2000) as f64))
}

/// The script's flow.
pub fn run(o: &Parsed, out: &mut Out, _dir: &Path) -> Result<(), End> {
    out.line(format!("ARG bits in virtual address {}", o.str('v')));
    out.line(format!("ARG page size {}", o.str('p')));
    out.line(format!("ARG pte size {}", o.str('e')));
    out.line("");
    let vsize = int(o.str('v'))?;
    let pte = convert(o.str('e'))?;
    let page = convert(o.str('p'))?;
    if page <= 0 {
        return Err(raise("ValueError", "math domain error"));
    }
    let offbits = ((page as f64).ln() / 2f64.ln()).trunc() as i128;
    let p2 = pow2(offbits)?;
    if p2 != page as f64 || p2 as i128 != page {
        out.line("Error in argument -p (pagesize): Must be a power of 2\n");
        return Err(End::Exit);
    }
    if !o.flag('c') {
        out.line(
            "Compute how big a linear page table is with the characteristics you see above.\n",
        );
        out.line("REMEMBER: There is one linear page table *per process*.");
        out.line("Thus, the more running processes, the more of these tables we will need.");
        out.line(
            "However, for this problem, we are only concerned about the size of *one* table.\n",
        );
        return Ok(());
    }
    out.line("Recall that an address has two components: ");
    out.line("[ Virtual Page Number (VPN) | Offset ]");
    out.line("");
    out.line(format!(
        "The number of bits in the virtual address: {vsize}"
    ));
    out.line(format!("The page size: {page} bytes"));
    out.line(format!(
        "Thus, the number of bits needed in the offset: {offbits}"
    ));
    let vpnbits = vsize - offbits;
    out.line(format!(
        "Which leaves this many bits for the VPN: {vpnbits}"
    ));
    out.line("Thus, a virtual address looks like this:\n");
    let mut i = 0;
    while i < vpnbits {
        out.line("V");
        i += 1;
    }
    out.line("|");
    for _ in 0..offbits {
        out.line("O");
    }
    out.line("\n\nwhere V is for a VPN bit and O is for an offset bit");
    out.line("To compute the size of the linear page table, we need to know:");
    let entries = pow2(vpnbits)?;
    out.line(format!(
        "- The # of entries in the table, which is 2^(num of VPN bits): {}",
        float_repr(entries)
    ));
    out.line(format!(
        "- The size of each page table entry, which is: {pte}"
    ));
    out.line("And then multiply them together. The final result:");
    let bytes = entries * pte as f64;
    out.line(format!("  {} bytes", float_int_str(bytes)?));
    out.line(format!("  in KB: {}", float_repr(bytes / 1024.0)));
    out.line(format!("  in MB: {}", float_repr(bytes / 1024.0 / 1024.0)));
    Ok(())
}
