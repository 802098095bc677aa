//! `/proc/PID/status`: `Key:\tvalue` lines; the memory figures are `N kB`
//! (Documentation/filesystems/proc.rst, table 1-2).
use crate::error::ProcError;
use serde::Serialize;

/// The memory lines of `status`, in KiB. A kernel thread has none of them, hence `Option`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Status {
    /// `Name`: the command name.
    pub name: String,
    /// `Pid`.
    pub pid: u32,
    /// `VmSize`: virtual size.
    pub vm_size: Option<u64>,
    /// `VmRSS`: resident set (= `RssAnon` + `RssFile` + `RssShmem`).
    pub vm_rss: Option<u64>,
    /// `RssAnon`.
    pub rss_anon: Option<u64>,
    /// `RssFile`.
    pub rss_file: Option<u64>,
    /// `RssShmem`.
    pub rss_shmem: Option<u64>,
    /// `VmPTE`: page-table memory: PTE, PMD and PUD table pages (mm_pgtables_bytes).
    pub vm_pte: Option<u64>,
    /// `VmSwap`.
    pub vm_swap: Option<u64>,
    /// `VmHWM`: peak resident set.
    pub vm_hwm: Option<u64>,
}

/// Parses `N kB`.
fn kib(v: &str) -> Result<u64, String> {
    let n = v
        .trim()
        .strip_suffix("kB")
        .ok_or_else(|| format!("bad value `{}` (expected `N kB`)", v.trim()))?;
    n.trim()
        .parse()
        .map_err(|_| format!("bad value `{}` (expected `N kB`)", v.trim()))
}

/// Parses a whole `status` file. `Pid` must be present.
pub fn parse(path: &str, text: &str) -> Result<Status, ProcError> {
    let mut s = Status::default();
    let mut pid = None;
    for (i, line) in text.lines().enumerate() {
        if line.is_empty() {
            continue;
        }
        let bad = |m: String| ProcError::malformed(path, i + 1, m);
        let (key, v) = line
            .split_once(':')
            .ok_or_else(|| bad(format!("`{line}` is not `Key: value`")))?;
        let slot = match key {
            "Name" => {
                s.name = v.trim().to_string();
                continue;
            }
            "Pid" => {
                pid = Some(
                    v.trim()
                        .parse()
                        .map_err(|_| bad(format!("bad pid `{}`", v.trim())))?,
                );
                continue;
            }
            "VmSize" => &mut s.vm_size,
            "VmRSS" => &mut s.vm_rss,
            "RssAnon" => &mut s.rss_anon,
            "RssFile" => &mut s.rss_file,
            "RssShmem" => &mut s.rss_shmem,
            "VmPTE" => &mut s.vm_pte,
            "VmSwap" => &mut s.vm_swap,
            "VmHWM" => &mut s.vm_hwm,
            _ => continue,
        };
        *slot = Some(kib(v).map_err(bad)?);
    }
    s.pid = pid.ok_or(ProcError::Missing {
        path: path.to_string(),
        key: "Pid",
    })?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_memory_lines() {
        let t = "Name:\tcat\nUmask:\t0022\nPid:\t42\nVmSize:\t    8000 kB\nVmRSS:\t  1000 kB\n\
                 RssAnon:\t 100 kB\nRssFile:\t 900 kB\nRssShmem:\t 0 kB\nVmPTE:\t 48 kB\n\
                 VmSwap:\t 0 kB\nCpus_allowed:\tf\n";
        let s = parse("status", t).unwrap();
        assert_eq!(s.name, "cat");
        assert_eq!(s.pid, 42);
        assert_eq!(s.vm_size, Some(8000));
        assert_eq!(s.vm_pte, Some(48));
        assert_eq!(s.rss_file, Some(900));
        assert_eq!(s.vm_hwm, None);
    }

    #[test]
    fn rejects_bad_values_and_missing_pid() {
        let e = parse("st", "Pid:\t1\nVmPTE:\t48 pages\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("st:2: ") && e.contains("48 pages"), "{e}");
        let e = parse("st", "Name: x\n").unwrap_err().to_string();
        assert_eq!(e, "st: no `Pid` line");
        let e = parse("st", "Pid 1\n").unwrap_err().to_string();
        assert!(e.starts_with("st:1: "), "{e}");
    }
}
