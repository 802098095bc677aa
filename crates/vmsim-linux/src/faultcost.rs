//! The cost of a page fault on this machine, measured: touch every page of a fresh region once
//! and divide the time by the pages. Three kinds, the three the fault handler distinguishes
//! most often (mm/memory.c: do_anonymous_page, do_read_fault, do_cow_fault/wp_page_copy):
//! - demand-zero: the first write to anonymous memory (a zeroed page is allocated and mapped;
//!   MADV_NOHUGEPAGE keeps it to 4 KiB pages);
//! - minor: the first read of a file page already in the page cache (mapped, nothing read from
//!   disk; MADV_RANDOM turns off fault-around, so each fault maps one page);
//! - copy-on-write: the first write to a private file page that a read mapped (the page is
//!   copied). The minimum over trials is kept. The time includes the access itself (~1 ns).
use crate::sys::{Advice, Mapping, PAGE};
use serde::Serialize;
use std::io::Write;
use std::time::Instant;

/// Nanoseconds per fault of each kind.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FaultCosts {
    /// Pages touched per trial.
    pub pages: usize,
    /// Trials (the minimum is kept).
    pub trials: u32,
    /// First write to anonymous memory.
    pub demand_zero_ns: f64,
    /// First read of a cached file page.
    pub minor_ns: f64,
    /// First write to a private file page already mapped by a read.
    pub cow_ns: f64,
}

/// Times `f` over every page of `m`, in ns per page.
fn per_page(m: &Mapping, pages: usize, mut f: impl FnMut(&Mapping, usize)) -> f64 {
    let t = Instant::now();
    for p in 0..pages {
        f(m, p * PAGE);
    }
    t.elapsed().as_nanos() as f64 / pages as f64
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
        let mut best = FaultCosts {
            pages,
            trials: trials.max(1),
            demand_zero_ns: f64::INFINITY,
            minor_ns: f64::INFINITY,
            cow_ns: f64::INFINITY,
        };
        for _ in 0..trials.max(1) {
            let anon = Mapping::anonymous(None, pages * PAGE, false)?;
            anon.advise(Advice::NoHugePage)?;
            let z = per_page(&anon, pages, |m, off| m.write(off, 1));
            let file = Mapping::private_file(&f, pages * PAGE)?;
            file.advise(Advice::Random)?;
            let mut sum = 0u64;
            let minor = per_page(&file, pages, |m, off| sum += u64::from(m.read(off)));
            std::hint::black_box(sum);
            let cow = per_page(&file, pages, |m, off| m.write(off, 2));
            best.demand_zero_ns = best.demand_zero_ns.min(z);
            best.minor_ns = best.minor_ns.min(minor);
            best.cow_ns = best.cow_ns.min(cow);
        }
        Ok(best)
    })();
    std::fs::remove_file(&path).ok();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_touch_is_a_fault_and_copies_stay_private() {
        // Minor faults of this process so far (/proc/self/stat field 10, after the name).
        let minflt = || -> u64 {
            let s = std::fs::read_to_string("/proc/self/stat").unwrap();
            let rest = &s[s.rfind(')').unwrap() + 2..];
            rest.split(' ').nth(7).unwrap().parse().unwrap()
        };
        let before = minflt();
        let c = measure(64, 1, &std::env::temp_dir()).unwrap();
        // Each of the 3 × 64 timed touches took a fault (other threads only add to the count).
        assert!(minflt() - before >= 3 * 64, "{} faults", minflt() - before);
        assert!([c.demand_zero_ns, c.minor_ns, c.cow_ns]
            .iter()
            .all(|n| n.is_finite()));
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
