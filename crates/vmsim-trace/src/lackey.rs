//! valgrind lackey's `--trace-mem=yes` output: `I  ADDR,SIZE` for an instruction fetch,
//! ` L ADDR,SIZE` a load, ` S ADDR,SIZE` a store, ` M ADDR,SIZE` a modify (a load then a store
//! of the same bytes). Addresses are hex without `0x`. Lines valgrind itself prints start with
//! `==PID==` and are skipped. Records get process 1 and CPU 0.
use crate::record::Record;
use vmsim_core::AccessKind;

/// Whether `line` has the shape of a lackey access line.
pub fn looks_like(line: &str) -> bool {
    let mut v = Vec::new();
    parse_line(line, &mut v).is_ok() && !v.is_empty()
}

/// Parses one line, pushing its records.
pub fn parse_line(line: &str, out: &mut Vec<Record>) -> Result<(), String> {
    if line.starts_with("==") || line.trim().is_empty() {
        return Ok(());
    }
    let b = line.as_bytes();
    let (kinds, rest): ((AccessKind, Option<AccessKind>), &str) = match b {
        [b'I', b' ', b' ', ..] => ((AccessKind::Fetch, None), &line[3..]),
        [b' ', b'L', b' ', ..] => ((AccessKind::Read, None), &line[3..]),
        [b' ', b'S', b' ', ..] => ((AccessKind::Write, None), &line[3..]),
        [b' ', b'M', b' ', ..] => ((AccessKind::Read, Some(AccessKind::Write)), &line[3..]),
        _ => {
            return Err(format!(
                "not a lackey record: `{}` (expected `I  ADDR,SIZE` or ` L|S|M ADDR,SIZE`)",
                line.chars().take(40).collect::<String>()
            ))
        }
    };
    let (a, s) = rest
        .trim()
        .split_once(',')
        .ok_or_else(|| format!("missing `,SIZE` in `{}`", rest.trim()))?;
    let addr = u64::from_str_radix(a, 16).map_err(|_| format!("bad hex address `{a}`"))?;
    let size: u32 = s
        .parse()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("bad size `{s}`"))?;
    let rec = Record {
        size,
        ..Record::new(kinds.0, addr)
    };
    out.push(rec);
    if let Some(k) = kinds.1 {
        out.push(Record { kind: k, ..rec });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        let mut v = Vec::new();
        parse_line("I  0401ab70,3", &mut v).unwrap();
        parse_line(" S 1fff000758,8", &mut v).unwrap();
        parse_line(" M 1fff000750,4", &mut v).unwrap();
        parse_line("==11301== Lackey, an example Valgrind tool", &mut v).unwrap();
        let kinds: Vec<_> = v.iter().map(|r| r.kind).collect();
        assert_eq!(
            kinds,
            [
                AccessKind::Fetch,
                AccessKind::Write,
                AccessKind::Read,
                AccessKind::Write
            ]
        );
        assert_eq!(v[0].addr.as_u64(), 0x0401ab70);
        assert_eq!(v[1].size, 8);
        assert!(parse_line(" X 10,4", &mut v).is_err());
        assert!(parse_line(" L zz,4", &mut v)
            .unwrap_err()
            .contains("bad hex"));
        assert!(parse_line(" L 10", &mut v).unwrap_err().contains("SIZE"));
        assert!(parse_line(" L 10,0", &mut v).is_err());
        assert!(looks_like("I  0401ab70,3") && !looks_like("0x1000"));
    }
}
