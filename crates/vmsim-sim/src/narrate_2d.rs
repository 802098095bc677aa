//! The narration of a two-dimensional (nested) walk: each entry read, guest or host, and at the
//! end the grid hardware papers draw, guest levels down the side and host levels across, with
//! the number of entries the walk read in each cell (a cell past 1 means an EPT violation made
//! the access walk again).
use std::fmt::Write;
use vmsim_core::translate::nested::{Dimension, NestedRead};
use vmsim_core::Level;

/// One line for one read.
pub fn line(r: &NestedRead) -> String {
    match r.dimension {
        Dimension::Guest => format!(
            "    read guest {}[{}] at guest-physical {:#x} (host-physical {:#x}) = {:#018x}",
            r.level.entry_name(),
            r.index.get(),
            r.entry_addr.as_u64(),
            r.host_addr.as_u64(),
            r.entry
        ),
        Dimension::Host { guest_level } => format!(
            "      host EPT {}[{}] at host-physical {:#x} = {:#018x}  (translating {})",
            r.level.entry_name(),
            r.index.get(),
            r.entry_addr.as_u64(),
            r.entry,
            match guest_level {
                Some(l) => format!("the guest {}'s address", l.table_name()),
                None => "the data page's guest-physical address".to_string(),
            }
        ),
    }
}

/// The grid of a walk's reads: one row per guest level (then the data page), one column per
/// host level, and a last column for the guest entry itself.
pub fn grid(reads: &[NestedRead], out: &mut String) {
    let mut cells = [[0u32; 6]; 6];
    let (mut rows, mut cols) = (0u8, 0u8);
    for r in reads {
        let (row, col) = match r.dimension {
            Dimension::Guest => (r.level.number(), 0),
            Dimension::Host { guest_level } => {
                (guest_level.map_or(0, Level::number), r.level.number())
            }
        };
        cells[row as usize][col as usize] += 1;
        rows = rows.max(row);
        cols = cols.max(col);
    }
    let _ = writeln!(
        out,
        "  2-D walk: {} entries read (rows: guest level; columns: EPT level, then the guest entry)",
        reads.len()
    );
    let mut head = format!("    {:<6}", "");
    for c in (1..=cols).rev() {
        let _ = write!(
            head,
            "{:>7}",
            Level::from_number(c).map_or("", |l| l.entry_name())
        );
    }
    let _ = writeln!(out, "{head}  | guest");
    for row in (0..=rows).rev() {
        let name = match Level::from_number(row) {
            Some(l) => l.table_name(),
            None => "page",
        };
        let mut s = format!("    {name:<6}");
        for c in (1..=cols).rev() {
            let _ = write!(s, "{:>7}", cells[row as usize][c as usize]);
        }
        let g = if row == 0 {
            "-".to_string()
        } else {
            cells[row as usize][0].to_string()
        };
        let _ = writeln!(out, "{s}  | {g:>5}");
    }
}
