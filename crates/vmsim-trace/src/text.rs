//! The plain text format: one access per line.
//!
//! ```text
//! # comments and blank lines are skipped
//! 0x7ffd5c3e1a28            a 1-byte read by process 1 on CPU 0
//! W 0x601040 8              an 8-byte write
//! X 4198400 4 pid=7 cpu=1   a fetch (decimal address) by process 7 on CPU 1
//! ```
//!
//! The optional first token is the kind: `R`/`L` read, `W`/`S` write, `X`/`I` fetch (either
//! case); `M` (modify) is a read followed by a write. Then the address (`0x` hex or decimal),
//! an optional size in bytes, and optional `pid=N`, `cpu=N` fields in any order. The writer
//! omits defaults (kind R, size 1, pid 1, CPU 0), so text round-trips exactly.
use crate::lines::parse_number;
use crate::record::Record;
use std::io::Write;
use vmsim_core::AccessKind;

/// Parses one line, pushing its records (none for comments and blank lines).
pub fn parse_line(line: &str, out: &mut Vec<Record>) -> Result<(), String> {
    let line = line.split('#').next().unwrap_or("").trim();
    if line.is_empty() {
        return Ok(());
    }
    let mut tokens = line
        .split(|c: char| c.is_ascii_whitespace() || c == ',')
        .filter(|t| !t.is_empty())
        .peekable();
    let mut kinds: (AccessKind, Option<AccessKind>) = (AccessKind::Read, None);
    if let Some(&t) = tokens.peek() {
        let k = match t {
            "R" | "r" | "L" | "l" => Some((AccessKind::Read, None)),
            "W" | "w" | "S" | "s" => Some((AccessKind::Write, None)),
            "X" | "x" | "I" | "i" => Some((AccessKind::Fetch, None)),
            "M" | "m" => Some((AccessKind::Read, Some(AccessKind::Write))),
            _ if t.chars().next().is_some_and(|c| c.is_ascii_digit()) => None,
            _ => return Err(format!("unknown access kind `{t}` (expected R, W, X or M)")),
        };
        if let Some(k) = k {
            kinds = k;
            tokens.next();
        }
    }
    let addr = parse_number(tokens.next().ok_or("missing address")?)?;
    let mut rec = Record::new(kinds.0, addr);
    let mut have_size = false;
    for t in tokens {
        if let Some(v) = t.strip_prefix("pid=") {
            rec.pid =
                u32::try_from(parse_number(v)?).map_err(|_| format!("pid `{v}` is too large"))?;
        } else if let Some(v) = t.strip_prefix("cpu=") {
            rec.cpu =
                u16::try_from(parse_number(v)?).map_err(|_| format!("cpu `{v}` is too large"))?;
        } else if let Some(v) = t.strip_prefix("size=").or((!have_size).then_some(t)) {
            let n = parse_number(v)?;
            rec.size = u32::try_from(n)
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| format!("size `{v}` must be between 1 and 2^32-1"))?;
            have_size = true;
        } else {
            return Err(format!("unexpected `{t}` after the size"));
        }
    }
    out.push(rec);
    if let Some(k2) = kinds.1 {
        out.push(Record { kind: k2, ..rec });
    }
    Ok(())
}

/// Writes `r` as one line.
pub fn write_record<W: Write>(w: &mut W, r: &Record) -> std::io::Result<()> {
    let k = match r.kind {
        AccessKind::Read => "",
        AccessKind::Write => "W ",
        AccessKind::Fetch => "X ",
    };
    write!(w, "{k}{:#x}", r.addr.as_u64())?;
    if r.size != 1 {
        write!(w, " {}", r.size)?;
    }
    if r.pid != Record::DEFAULT_PID {
        write!(w, " pid={}", r.pid)?;
    }
    if r.cpu != 0 {
        write!(w, " cpu={}", r.cpu)?;
    }
    writeln!(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Vec<Record>, String> {
        let mut v = Vec::new();
        parse_line(s, &mut v).map(|_| v)
    }

    #[test]
    fn grammar() {
        assert_eq!(
            parse("0x1000").unwrap(),
            vec![Record::new(AccessKind::Read, 0x1000)]
        );
        let r = parse("W 4096 8 pid=3 cpu=2").unwrap()[0];
        assert_eq!(
            (r.kind, r.addr.as_u64(), r.size, r.pid, r.cpu),
            (AccessKind::Write, 4096, 8, 3, 2)
        );
        assert_eq!(parse("x 0x10,4").unwrap()[0].kind, AccessKind::Fetch);
        assert_eq!(parse("M 0x10 2").unwrap().len(), 2);
        assert!(parse("   # just a comment").unwrap().is_empty());
        assert!(parse("Q 0x10").unwrap_err().contains("unknown access kind"));
        assert!(parse("R 0xzz").unwrap_err().contains("not a number"));
        assert!(parse("R 0x1ffffffffffffffff")
            .unwrap_err()
            .contains("64 bits"));
        assert!(parse("R").unwrap_err().contains("missing address"));
        assert!(parse("R 0x10 0").is_err());
        assert!(parse("R 0x10 4 5").is_err());
        assert!(parse("R 0x10 pid=99999999999").is_err());
    }
}
