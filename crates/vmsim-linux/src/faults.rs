//! A program's real page faults, from the kernel's `exceptions:page_fault_user` tracepoint
//! (arch/x86/include/asm/trace/exceptions.h) recorded with `perf record` and printed with
//! `perf script`. The x86 error code says why (Intel SDM Vol. 3A §4.7): bit 0 set = a
//! protection violation on a present page (clear = page not present), bit 1 = a write,
//! bit 2 = user mode, bit 4 = an instruction fetch.
use crate::error::ProcError;
use crate::record::RecordError;
use crate::tool::{find, Tool};
use serde::Serialize;
use std::path::Path;
use std::process::{Command, Stdio};
use vmsim_core::AccessKind;

/// One fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Fault {
    /// Thread that faulted.
    pub pid: u32,
    /// Faulting address.
    pub addr: u64,
    /// Instruction pointer.
    pub ip: u64,
    /// x86 page-fault error code.
    pub error_code: u64,
}

/// Why a page faulted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// No present entry (demand paging, swap-in, first touch).
    NotPresent,
    /// A present page the access was not allowed (copy-on-write, write-protect tracking).
    Protection,
}

impl Fault {
    /// The access that faulted.
    pub fn kind(&self) -> AccessKind {
        if self.error_code & 0x10 != 0 {
            AccessKind::Fetch
        } else if self.error_code & 0x2 != 0 {
            AccessKind::Write
        } else {
            AccessKind::Read
        }
    }

    /// Why.
    pub fn cause(&self) -> Cause {
        if self.error_code & 1 != 0 {
            Cause::Protection
        } else {
            Cause::NotPresent
        }
    }
}

/// Parses `perf script -F pid,trace` output: `PID address=0x.. ip=0x.. error_code=0x..`.
pub fn parse_perf_script(name: &str, text: &str) -> Result<Vec<Fault>, ProcError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let bad = |m: String| ProcError::malformed(name, i + 1, m);
        let mut it = line.split_whitespace();
        let pid: u32 = it
            .next()
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| bad(format!("`{line}` does not start with a pid")))?;
        let mut field = |key: &str| -> Result<u64, ProcError> {
            let t = it.next().ok_or_else(|| bad(format!("missing `{key}=`")))?;
            let v = t
                .strip_prefix(key)
                .and_then(|v| v.strip_prefix('='))
                .ok_or_else(|| bad(format!("expected `{key}=`, found `{t}`")))?;
            let h = v.strip_prefix("0x").unwrap_or(v);
            u64::from_str_radix(h, 16).map_err(|_| bad(format!("bad {key} `{v}`")))
        };
        out.push(Fault {
            pid,
            addr: field("address")?,
            ip: field("ip")?,
            error_code: field("error_code")?,
        });
    }
    Ok(out)
}

/// Runs `cmd` under `perf record -e exceptions:page_fault_user`, keeping perf's data in
/// `scratch` (removed afterwards), and returns the faults in order. The program's standard
/// output goes to vmsim's standard error.
pub fn record_faults(cmd: &[String], scratch: &Path) -> Result<Vec<Fault>, RecordError> {
    use std::os::fd::AsFd;
    let perf = find(Tool::Perf)?;
    let start = |what: &'static str| {
        move |error| RecordError::Start {
            what: what.into(),
            error,
        }
    };
    let stdout_to_stderr = std::io::stderr()
        .as_fd()
        .try_clone_to_owned()
        .map_err(start("perf"))?;
    let rec = Command::new(&perf)
        .args(["record", "-q", "-e", "exceptions:page_fault_user", "-o"])
        .arg(scratch)
        .arg("--")
        .args(cmd)
        .stdout(Stdio::from(stdout_to_stderr))
        .stderr(Stdio::piped())
        .output()
        .map_err(start("perf record"))?;
    let failed = |what: &str, o: &std::process::Output| {
        RecordError::Tool(format!(
            "perf {what} failed ({}): {}",
            o.status,
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .next()
                .unwrap_or("no message")
        ))
    };
    if !scratch.exists() {
        return Err(failed("record", &rec));
    }
    let script = Command::new(&perf)
        .args(["script", "-F", "pid,trace", "-i"])
        .arg(scratch)
        .output()
        .map_err(start("perf script"));
    std::fs::remove_file(scratch).ok();
    let script = script?;
    if !script.status.success() {
        return Err(failed("script", &script));
    }
    parse_perf_script("perf script", &String::from_utf8_lossy(&script.stdout))
        .map_err(|e| RecordError::Tool(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_perf_lines_and_decodes_error_codes() {
        let t = "  2070 address=0x7f6b6710cb70 ip=0x7f6b6710cb70 error_code=0x14\n\
                 2070 address=0x7fff937edfc8 ip=0x7f6b6710d7a0 error_code=0x6\n\
                 2071 address=0x1000 ip=0x400000 error_code=0x7\n";
        let f = parse_perf_script("p", t).unwrap();
        assert_eq!(f.len(), 3);
        assert_eq!(
            (f[0].kind(), f[0].cause()),
            (AccessKind::Fetch, Cause::NotPresent)
        );
        assert_eq!(
            (f[1].kind(), f[1].cause()),
            (AccessKind::Write, Cause::NotPresent)
        );
        assert_eq!(
            (f[2].kind(), f[2].cause()),
            (AccessKind::Write, Cause::Protection)
        );
        assert_eq!(f[1].addr, 0x7fff937edfc8);
        assert_eq!(f[2].pid, 2071);
    }

    #[test]
    fn rejects_malformed_perf_lines() {
        for (t, needle) in [
            ("x address=0x1 ip=0x2 error_code=0x3", "pid"),
            ("1 address=0x1 ip=0x2", "error_code"),
            ("1 addr=0x1 ip=0x2 error_code=0", "expected `address=`"),
            ("1 address=0xzz ip=0x2 error_code=0", "bad address"),
        ] {
            let e = parse_perf_script("p", &format!("\n{t}\n"))
                .unwrap_err()
                .to_string();
            assert!(e.starts_with("p:2: ") && e.contains(needle), "{t}: {e}");
        }
    }
}
