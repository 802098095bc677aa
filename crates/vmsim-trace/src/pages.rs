//! The plain page-number format: one page reference per line, for cache-simulation users whose
//! traces are already keys rather than byte addresses.
//!
//! ```text
//! # comments and blank lines are skipped
//! 4711          a read of page 4711
//! 0x1a2b w      a write of page 0x1a2b
//! W 12          also a write (the kind may come first or last: R or W, either case)
//! ```
//!
//! Page numbers are decimal or `0x` hex, any 64-bit value. Replacement policies and curves use
//! them as they are (`--page-size` does not apply). Read as addresses (by `vmsim run`), page `p`
//! is the one-byte access at `p × 4096`, so a page-number trace replays as 4 KiB pages.
use crate::lines::parse_number;
use crate::record::Record;
use std::io::Write;
use vmsim_core::{AccessKind, PageSize};

/// A page reference: the page and whether the reference writes it.
pub type PageRef = (u64, bool);

/// The page size a page-number trace stands for when it is read as addresses, as a shift.
pub const PAGE_SHIFT: u32 = 12;

/// Parses one line, pushing its reference (none for comments and blank lines).
pub fn parse_line(line: &str, out: &mut Vec<PageRef>) -> Result<(), String> {
    let line = line.split('#').next().unwrap_or("").trim();
    if line.is_empty() {
        return Ok(());
    }
    let mut page = None;
    let mut write = None;
    for t in line.split_ascii_whitespace() {
        let kind = match t {
            "R" | "r" => Some(false),
            "W" | "w" => Some(true),
            _ => None,
        };
        match (kind, page) {
            (Some(w), _) if write.is_none() => write = Some(w),
            (None, None) => page = Some(parse_number(t)?),
            _ => return Err(format!("unexpected `{t}` (expected `PAGE [R|W]`)")),
        }
    }
    out.push((page.ok_or("missing page number")?, write.unwrap_or(false)));
    Ok(())
}

/// The access a page reference stands for when read as an address trace; an error for a page
/// whose address does not fit in 64 bits.
pub fn to_record(&(page, write): &PageRef) -> Result<Record, String> {
    if page >> (64 - PAGE_SHIFT) != 0 {
        return Err(format!(
            "page {page:#x} is too large to be a 4 KiB page of a 64-bit address space"
        ));
    }
    let kind = if write {
        AccessKind::Write
    } else {
        AccessKind::Read
    };
    Ok(Record::new(kind, page << PAGE_SHIFT))
}

/// The first and last `size` pages an access touches (the same page unless it crosses a
/// boundary; every page between them is touched too). An access that would run past the top
/// of the address space ends at its last page (readers refuse such records).
#[inline]
pub fn span(r: &Record, size: PageSize) -> (u64, u64) {
    let a = r.addr.as_u64();
    let last = a.saturating_add(u64::from(r.size.max(1)) - 1);
    (a >> size.shift(), last >> size.shift())
}

/// Writes one reference as a line (`PAGE`, or `PAGE w` for a write).
pub fn write_ref<W: Write>(w: &mut W, (page, write): PageRef) -> std::io::Result<()> {
    if write {
        writeln!(w, "{page} w")
    } else {
        writeln!(w, "{page}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Vec<PageRef>, String> {
        let mut v = Vec::new();
        parse_line(s, &mut v).map(|_| v)
    }

    #[test]
    fn grammar() {
        assert_eq!(parse("4711").unwrap(), vec![(4711, false)]);
        assert_eq!(parse("0x10 w").unwrap(), vec![(16, true)]);
        assert_eq!(parse("W 12").unwrap(), vec![(12, true)]);
        assert_eq!(parse(" 7 R # read").unwrap(), vec![(7, false)]);
        assert!(parse("# nothing").unwrap().is_empty());
        assert_eq!(parse("18446744073709551615").unwrap()[0].0, u64::MAX);
        assert!(parse("w").unwrap_err().contains("missing page"));
        assert!(parse("1 2").unwrap_err().contains("unexpected `2`"));
        assert!(parse("1 w r").unwrap_err().contains("unexpected `r`"));
        assert!(parse("x").unwrap_err().contains("not a number"));
    }

    #[test]
    fn as_addresses() {
        let r = to_record(&(3, true)).unwrap();
        assert_eq!((r.kind, r.addr.as_u64()), (AccessKind::Write, 0x3000));
        assert!(to_record(&(1 << 52, false)).is_err());
    }
}
