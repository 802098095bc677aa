//! The older OSTEP `paging-linear-size.py`: how big a linear page table is for a given
//! address width, page size and entry size. No randomness. The figures are the linear table's
//! own arithmetic; vmsim's `LinearTable::overhead_bytes` computes the same for real tables.

use crate::args::{self, Opt};
use crate::{usage, Case};
use serde_json::json;

/// The script's options, in its order (its `-h` lists them so).
pub(crate) const OPTS: &[Opt] = &[
    Opt::text('v', "vasize", "32").doc("VSIZE", "bits in virtual address (e.g., 16, 20, 32)"),
    Opt::text('e', "ptesize", "4").doc("PTESIZE", "size of the page table entry (e.g., 4 bytes)"),
    Opt::text('p', "pagesize", "4k").doc("PAGESIZE", "size of the page (e.g., 4k, 4096, 1m)"),
    Opt::flag('c', "").doc("", "compute answers for me"),
];

/// Runs the simulator.
pub fn run(argv: &[String]) -> Case {
    let o = match args::parse(argv, OPTS) {
        Ok(o) => o,
        Err(e) => return usage(e),
    };
    let value_err = || Case::fail("exception:ValueError", vec![], vec![]);
    let va_bits = converted!(o.str('v'));
    let pte = converted!(o.str('e'));
    let page = converted!(o.str('p'));
    if page <= 0 {
        // math.log of zero or a negative number.
        return value_err();
    }
    let offset_bits = ((page as f64).ln() / 2f64.ln()).trunc() as i64;
    if 2f64.powi(offset_bits as i32) != page as f64 {
        return Case::fail(
            "pagesize_not_power_of_2",
            vec![],
            vec![format!("page size {page} is not a power of two")],
        );
    }
    let vpn_bits = va_bits - offset_bits;
    let entries = 2f64.powi(vpn_bits as i32);
    let bytes = entries * pte as f64;
    let explain = vec![
        format!("page size {page} = 2^{offset_bits}: {offset_bits} offset bits"),
        format!(
            "VPN bits = {va_bits} - {offset_bits} = {vpn_bits}: 2^{vpn_bits} = {entries} entries"
        ),
        format!(
            "table = {entries} entries x {pte} bytes = {bytes} bytes = {} KB = {} MB",
            bytes / 1024.0,
            bytes / 1048576.0
        ),
    ];
    Case {
        problem: Some(json!({"va_bits": va_bits, "page_size": page, "pte_size": pte})),
        answers: Some(vec![json!({
            "offset_bits": offset_bits,
            "vpn_bits": vpn_bits,
            "entries": entries,
            "table_bytes": bytes.trunc() as i64,
            "table_kb": bytes / 1024.0,
            "table_mb": bytes / 1048576.0,
        })]),
        summary: None,
        error: None,
        explain,
    }
}
