//! The cost of a page fault on this machine, measured: touch every page of a fresh region once
//! and divide the time by the pages. Three kinds, the three the fault handler distinguishes
//! most often (mm/memory.c: do_anonymous_page, do_read_fault, do_cow_fault/wp_page_copy):
//! - demand-zero: the first write to anonymous memory (a zeroed page is allocated and mapped;
//!   MADV_NOHUGEPAGE keeps it to 4 KiB pages);
//! - minor: the first read of a file page already in the page cache (mapped, nothing read from
//!   disk). Linux maps up to 16 cached neighbours on such a fault (fault-around,
//!   `fault_around_bytes`), so fewer faults than pages are taken;
//! - copy-on-write: the first write to a private file page that a read mapped (the page is
//!   copied).
//!
//! The faults taken are counted by the kernel (`minflt` of `/proc/thread-self/stat`), so the
//! cost is per fault, not per page; the minimum over trials is kept.
use crate::sys::{Advice, Mapping, PAGE};
use serde::Serialize;
use std::io::Write;
use std::time::Instant;

/// One kind's figures.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Cost {
    /// Nanoseconds per fault (the cheapest trial).
    pub ns_per_fault: f64,
    /// Faults the kernel counted in that trial.
    pub faults: u64,
    /// Pages touched per fault taken.
    pub pages_per_fault: f64,
}

/// The three kinds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FaultCosts {
    /// Pages touched per trial.
    pub pages: usize,
    /// Trials (the minimum is kept).
    pub trials: u32,
    /// First write to anonymous memory.
    pub demand_zero: Cost,
    /// First read of a cached file page.
    pub minor: Cost,
    /// First write to a private file page already mapped by a read.
    pub cow: Cost,
}

/// This thread's minor faults so far (field 10 of `/proc/thread-self/stat`), read into a
/// stack buffer: an allocation here could fault on fresh heap pages and be counted.
fn minflt() -> std::io::Result<u64> {
    use std::io::Read;
    let mut buf = [0u8; 1024];
    let mut f = std::fs::File::open("/proc/thread-self/stat")?;
    let n = f.read(&mut buf)?;
    let bad = || {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "unexpected /proc/thread-self/stat",
        )
    };
    let s = std::str::from_utf8(&buf[..n]).map_err(|_| bad())?;
    let rest = s.get(s.rfind(')').ok_or_else(bad)? + 2..).ok_or_else(bad)?;
    rest.split(' ')
        .nth(7)
        .and_then(|v| v.parse().ok())
        .ok_or_else(bad)
}

/// Times `f` over every page of `m` and counts the faults it took.
fn timed(m: &Mapping, pages: usize, mut f: impl FnMut(&Mapping, usize)) -> std::io::Result<Cost> {
    let before = minflt()?;
    let t = Instant::now();
    for p in 0..pages {
        f(m, p * PAGE);
    }
    let ns = t.elapsed().as_nanos() as f64;
    let faults = minflt()?.saturating_sub(before).max(1);
    Ok(Cost {
        ns_per_fault: ns / faults as f64,
        faults,
        pages_per_fault: pages as f64 / faults as f64,
    })
}

fn keep_min(best: &mut Option<Cost>, c: Cost) {
    if best.is_none_or(|b| c.ns_per_fault < b.ns_per_fault) {
        *best = Some(c);
    }
}

/// Measures the three kinds over `pages` pages, `trials` times each. The file is created in
/// `dir` and removed afterwards.
pub fn measure(pages: usize, trials: u32, dir: &std::path::Path) -> std::io::Result<FaultCosts> {
    let pages = pages.max(1);
    let path = dir.join(format!("vmsim-faults-{}.bin", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)?;
        f.write_all(&vec![1u8; pages * PAGE])?;
        f.flush()?;
        // An untimed first trial faults in the code and data the timed ones run (text pages of
        // this binary, the counter's buffers), so that only the touched pages are counted.
        let (mut zero, mut minor, mut cow) = (None, None, None);
        for trial in 0..=trials.max(1) {
            if trial == 1 {
                (zero, minor, cow) = (None, None, None);
            }
            let anon = Mapping::anonymous(None, pages * PAGE, false)?;
            anon.advise(Advice::NoHugePage)?;
            keep_min(&mut zero, timed(&anon, pages, |m, off| m.write(off, 1))?);
            let file = Mapping::private_file(&f, pages * PAGE)?;
            let mut sum = 0u64;
            keep_min(
                &mut minor,
                timed(&file, pages, |m, off| sum += u64::from(m.read(off)))?,
            );
            std::hint::black_box(sum);
            keep_min(&mut cow, timed(&file, pages, |m, off| m.write(off, 2))?);
        }
        let missing = || std::io::Error::other("no trial ran");
        Ok(FaultCosts {
            pages,
            trials: trials.max(1),
            demand_zero: zero.ok_or_else(missing)?,
            minor: minor.ok_or_else(missing)?,
            cow: cow.ok_or_else(missing)?,
        })
    })();
    std::fs::remove_file(&path).ok();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_touch_is_a_fault_and_copies_stay_private() {
        let c = measure(64, 1, &std::env::temp_dir()).unwrap();
        // 4 KiB anonymous pages and copies fault once per page; a read of cached file pages
        // maps up to 16 of them per fault.
        assert_eq!(c.demand_zero.faults, 64, "{c:?}");
        assert_eq!(c.cow.faults, 64, "{c:?}");
        assert!((4..=64).contains(&c.minor.faults), "{c:?}");
        // A private write copies: the file keeps its bytes.
        let dir = std::env::temp_dir().join(format!("vmsim-cow-{}", std::process::id()));
        std::fs::write(&dir, [7u8; PAGE]).unwrap();
        let f = std::fs::File::open(&dir).unwrap();
        let m = Mapping::private_file(&f, PAGE);
        // Read-only file handle: a writable private mapping is still allowed.
        let m = m.unwrap();
        assert_eq!(m.read(0), 7);
        m.write(0, 9);
        assert_eq!(m.read(0), 9);
        assert_eq!(std::fs::read(&dir).unwrap()[0], 7);
        std::fs::remove_file(dir).ok();
    }
}
