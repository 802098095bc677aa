//! `perf script` text of samples that carry a data address: `perf mem record` (loads and
//! stores, with `perf script`'s default fields) and `perf record -e page-faults -d` (printed
//! with `perf script -F +addr`, as perf leaves the address out of a software event's default
//! fields). One sample line is
//!
//! ```text
//! COMM  PID[/TID] [CPU]  SECONDS.MICROS:  [PERIOD] EVENT:  ADDR  [DATA_SRC ...]  IP SYM (DSO)
//! ```
//!
//! and becomes one one-byte access at `ADDR` (hex, the first hex field after the event) by
//! process `PID` (perf prints the thread id alone by default: `-F +pid` gives `PID/TID`) on
//! CPU `CPU` (0 when not printed). It is a write when the event's name says `store` or the
//! data source says `|OP STORE|`, a read otherwise (a page fault's kind is not recorded). A
//! sample with address 0 (perf knew none) gives nothing; `#` header lines and blank lines are
//! skipped. A sampled trace holds a fraction of the accesses, weighted to the hot ones.
use crate::record::Record;
use vmsim_core::{AccessKind, VirtAddr};

/// The parts of a sample line, found without parsing the address.
struct Sample<'a> {
    pid: &'a str,
    cpu: Option<&'a str>,
    event: &'a str,
    rest: std::slice::Iter<'a, &'a str>,
}

fn is_time(t: &str) -> bool {
    t.strip_suffix(':')
        .and_then(|t| t.split_once('.'))
        .is_some_and(|(s, f)| {
            !s.is_empty()
                && !f.is_empty()
                && s.bytes().all(|b| b.is_ascii_digit())
                && f.bytes().all(|b| b.is_ascii_digit())
        })
}

fn split<'a>(tokens: &'a [&'a str]) -> Option<Sample<'a>> {
    let t = tokens.iter().position(|t| is_time(t))?;
    let (cpu, pid_at) = match t.checked_sub(1).map(|i| tokens[i]) {
        Some(c) if c.starts_with('[') && c.ends_with(']') => {
            (Some(&c[1..c.len() - 1]), t.checked_sub(2)?)
        }
        _ => (None, t.checked_sub(1)?),
    };
    let mut rest = tokens[t + 1..].iter();
    let mut event = *rest.next()?;
    if event.bytes().all(|b| b.is_ascii_digit()) {
        event = rest.next()?;
    }
    let event = event.strip_suffix(':')?;
    Some(Sample {
        pid: tokens[pid_at],
        cpu,
        event,
        rest,
    })
}

/// Whether `line` has the shape of a `perf script` sample line.
pub fn looks_like(line: &str) -> bool {
    let tokens: Vec<&str> = line.split_ascii_whitespace().collect();
    split(&tokens).is_some()
}

/// Parses one line, pushing its access (none for headers, blank lines and samples without an
/// address).
pub fn parse_line(line: &str, out: &mut Vec<Record>) -> Result<(), String> {
    let trimmed = line.trim();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return Ok(());
    }
    let tokens: Vec<&str> = trimmed.split_ascii_whitespace().collect();
    let mut s = split(&tokens).ok_or_else(|| {
        format!(
            "not a perf script sample: `{}` (expected `COMM PID [CPU] TIME: [PERIOD] EVENT: ADDR ...`)",
            trimmed.chars().take(60).collect::<String>()
        )
    })?;
    let pid_text = s.pid.split('/').next().unwrap_or(s.pid);
    let pid: u32 = pid_text
        .parse()
        .map_err(|_| format!("bad pid `{}`", s.pid))?;
    let cpu: u16 = match s.cpu {
        Some(c) => c.parse().map_err(|_| format!("bad cpu `[{c}]`"))?,
        None => 0,
    };
    let addr = s
        .rest
        .next()
        .filter(|a| (1..=16).contains(&a.len()) && a.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| {
            format!(
                "no data address after the event `{}` (print it: perf script -F +addr)",
                s.event
            )
        })?;
    let addr = u64::from_str_radix(addr, 16).map_err(|_| format!("bad address `{addr}`"))?;
    if addr == 0 {
        return Ok(());
    }
    let store = s.event.to_ascii_lowercase().contains("store") || trimmed.contains("|OP STORE|");
    out.push(Record {
        pid,
        cpu,
        kind: if store {
            AccessKind::Write
        } else {
            AccessKind::Read
        },
        addr: VirtAddr::new_unchecked(addr),
        size: 1,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Vec<(u32, u16, AccessKind, u64)>, String> {
        let mut v = Vec::new();
        parse_line(s, &mut v)?;
        Ok(v.iter()
            .map(|r| (r.pid, r.cpu, r.kind, r.addr.as_u64()))
            .collect())
    }

    #[test]
    fn page_fault_samples() {
        // perf record -e page-faults -c 1 -d; perf script -F +addr (perf 6.1's layout)
        let l = "              ls 26513  9255.636520:          1 page-faults:     55e24daec5c0 __progname+0x0 (/usr/bin/ls) ffffffff8177df1a elf_load+0x28a ([kernel.kallsyms])";
        assert_eq!(
            parse(l).unwrap(),
            [(26513, 0, AccessKind::Read, 0x55e24daec5c0)]
        );
        let l =
            "ls 26513/26514 [003] 9255.636582: page-faults:     7fad9364db70 _start (/lib/ld.so)";
        assert_eq!(
            parse(l).unwrap(),
            [(26513, 3, AccessKind::Read, 0x7fad9364db70)]
        );
        assert!(looks_like(l));
    }

    #[test]
    fn perf_mem_samples() {
        let load = "  stream  4321 [001] 12345.678901:      30 cpu/mem-loads,ldlat=30/P:     7ffd1c2e5a40         5080144 |OP LOAD|LVL L1 hit|SNP None|TLB L1 or L2 hit|LCK No|BLK  N/A      401234 main+0x14 (/tmp/stream)";
        assert_eq!(
            parse(load).unwrap(),
            [(4321, 1, AccessKind::Read, 0x7ffd1c2e5a40)]
        );
        let store = "  stream  4321 [000] 12345.679001:  1000 cpu/mem-stores/P:  601040  2 |OP STORE|LVL L1 hit|SNP N/A|TLB N/A|LCK N/A  401240 main+0x20 (/tmp/stream)";
        assert_eq!(
            parse(store).unwrap(),
            [(4321, 0, AccessKind::Write, 0x601040)]
        );
        let ibs = "  stream  4321 [000] 12345.679001:  1 ibs_op//:  601040  a68100142 |OP STORE|LVL L1 hit|SNP N/A|TLB L1 or L2 hit|LCK N/A  401240 main+0x20 (/tmp/stream)";
        assert_eq!(parse(ibs).unwrap()[0].2, AccessKind::Write);
        let none = "  stream  4321 [000] 12345.679001:  1 cpu/mem-loads/P:  0  401240 main";
        assert!(parse(none).unwrap().is_empty());
    }

    #[test]
    fn errors_and_skips() {
        assert!(parse("# ========\n").unwrap().is_empty());
        assert!(parse("").unwrap().is_empty());
        assert!(parse("R 0x1000")
            .unwrap_err()
            .contains("not a perf script sample"));
        let e = parse("ls 1 9255.636520: page-faults: __progname+0x0").unwrap_err();
        assert!(e.contains("-F +addr"), "{e}");
        assert!(!looks_like("R 0x1000 8"));
        assert!(!looks_like("I  04001090,3"));
    }
}
