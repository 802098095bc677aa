//! `/proc/PID/smaps`: each area's `maps` line followed by `Key: N kB` lines (resident, shared,
//! private, swapped memory, transparent huge pages) and a `VmFlags:` line
//! (Documentation/filesystems/proc.rst, "/proc/PID/smaps"). Keys this parser does not know are
//! accepted and ignored, since kernels add new ones.
use super::maps::{parse_line as parse_maps_line, MapsEntry};
use crate::error::ProcError;
use serde::Serialize;

/// One area's memory figures, in KiB as the kernel writes them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SmapsCounts {
    /// `Size`: virtual size.
    pub size: u64,
    /// `KernelPageSize`.
    pub kernel_page_size: u64,
    /// `Rss`: resident.
    pub rss: u64,
    /// `Pss`: resident, each page divided by the number of processes mapping it.
    pub pss: u64,
    /// `Shared_Clean`.
    pub shared_clean: u64,
    /// `Shared_Dirty`.
    pub shared_dirty: u64,
    /// `Private_Clean`.
    pub private_clean: u64,
    /// `Private_Dirty`.
    pub private_dirty: u64,
    /// `Referenced`: resident and marked accessed since the last `clear_refs`.
    pub referenced: u64,
    /// `Anonymous`: resident pages not backed by a file.
    pub anonymous: u64,
    /// `AnonHugePages`: anonymous memory mapped by transparent huge pages.
    pub anon_huge_pages: u64,
    /// `ShmemPmdMapped` + `FilePmdMapped`: file or shmem memory mapped by PMD entries.
    pub file_pmd_mapped: u64,
    /// `Swap`.
    pub swap: u64,
    /// `SwapPss`.
    pub swap_pss: u64,
    /// `Locked`.
    pub locked: u64,
}

impl SmapsCounts {
    /// USS: memory only this process maps (private clean + private dirty).
    pub fn uss(&self) -> u64 {
        self.private_clean + self.private_dirty
    }
}

/// One area of `smaps`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SmapsEntry {
    /// The `maps` line.
    pub area: MapsEntry,
    /// Its figures.
    pub counts: SmapsCounts,
    /// The two-letter `VmFlags` (e.g. `rd`, `wr`, `hg` for MADV_HUGEPAGE, `nh`).
    pub vm_flags: Vec<String>,
}

/// Parses `N kB` or `N`.
fn value(v: &str) -> Result<u64, String> {
    let n = v.trim().strip_suffix("kB").unwrap_or(v).trim();
    n.parse()
        .map_err(|_| format!("bad value `{}` (expected `N kB`)", v.trim()))
}

/// Parses a whole `smaps` file.
pub fn parse(path: &str, text: &str) -> Result<Vec<SmapsEntry>, ProcError> {
    let mut out: Vec<SmapsEntry> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let bad = |m: String| ProcError::malformed(path, i + 1, m);
        if line.is_empty() {
            continue;
        }
        let first = line.split_whitespace().next().unwrap_or("");
        let Some(key) = first.strip_suffix(':') else {
            let area = parse_maps_line(line).map_err(bad)?;
            if let Some(prev) = out.last() {
                if area.start < prev.area.end {
                    return Err(bad(format!(
                        "area {:#x} starts before the previous one ends",
                        area.start
                    )));
                }
            }
            out.push(SmapsEntry {
                area,
                counts: SmapsCounts::default(),
                vm_flags: Vec::new(),
            });
            continue;
        };
        let Some(cur) = out.last_mut() else {
            return Err(bad(format!("`{key}:` before the first area line")));
        };
        let rest = &line[first.len()..];
        let c = &mut cur.counts;
        let slot: Option<&mut u64> = match key {
            "Size" => Some(&mut c.size),
            "KernelPageSize" => Some(&mut c.kernel_page_size),
            "Rss" => Some(&mut c.rss),
            "Pss" => Some(&mut c.pss),
            "Shared_Clean" => Some(&mut c.shared_clean),
            "Shared_Dirty" => Some(&mut c.shared_dirty),
            "Private_Clean" => Some(&mut c.private_clean),
            "Private_Dirty" => Some(&mut c.private_dirty),
            "Referenced" => Some(&mut c.referenced),
            "Anonymous" => Some(&mut c.anonymous),
            "AnonHugePages" => Some(&mut c.anon_huge_pages),
            "Swap" => Some(&mut c.swap),
            "SwapPss" => Some(&mut c.swap_pss),
            "Locked" => Some(&mut c.locked),
            "ShmemPmdMapped" | "FilePmdMapped" => {
                c.file_pmd_mapped += value(rest).map_err(bad)?;
                None
            }
            "VmFlags" => {
                cur.vm_flags = rest.split_whitespace().map(str::to_string).collect();
                None
            }
            _ => None,
        };
        if let Some(s) = slot {
            *s = value(rest).map_err(bad)?;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
00400000-00600000 rw-p 00000000 00:00 0 
Size:               2048 kB
KernelPageSize:        4 kB
Rss:                2048 kB
Pss:                1024 kB
Shared_Clean:          0 kB
Shared_Dirty:       2040 kB
Private_Clean:         0 kB
Private_Dirty:         8 kB
Referenced:         2048 kB
Anonymous:          2048 kB
AnonHugePages:      2048 kB
ShmemPmdMapped:        0 kB
FilePmdMapped:         4 kB
Swap:                 12 kB
SwapPss:               6 kB
Locked:                0 kB
THPeligible:    1
NewKeyFromAFutureKernel:  7 kB
VmFlags: rd wr mr mw me ac hg
7f0000000000-7f0000001000 r--p 00000000 08:01 99 /lib/x.so
Size:                  4 kB
Rss:                   4 kB
";

    #[test]
    fn parses_areas_counts_and_flags() {
        let v = parse("smaps", SAMPLE).unwrap();
        assert_eq!(v.len(), 2);
        let c = &v[0].counts;
        assert_eq!(
            (c.size, c.rss, c.pss, c.swap, c.swap_pss),
            (2048, 2048, 1024, 12, 6)
        );
        assert_eq!(c.uss(), 8);
        assert_eq!(c.anon_huge_pages, 2048);
        assert_eq!(c.file_pmd_mapped, 4);
        assert_eq!(v[0].vm_flags.last().map(String::as_str), Some("hg"));
        assert_eq!(v[1].area.path, "/lib/x.so");
        assert_eq!(v[1].counts.rss, 4);
    }

    #[test]
    fn rejects_malformed_with_line() {
        let e = parse("s", "Rss: 4 kB\n").unwrap_err().to_string();
        assert!(
            e.starts_with("s:1: ") && e.contains("before the first area"),
            "{e}"
        );
        let e = parse("s", "1000-2000 r--p 0 00:00 0\nRss: four kB\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("s:2: ") && e.contains("four"), "{e}");
        let e = parse("s", "1000-2000 r--p 0 00:00 0\n1000-3000 r--p 0 00:00 0\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("s:2: "), "{e}");
    }
}
