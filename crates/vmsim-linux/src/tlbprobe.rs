//! Measuring this machine's data-TLB reach, the classic way (Saavedra & Smith, "Measuring
//! cache and TLB performance and their effect on benchmark runtimes", IEEE ToC 1995; the OSTEP
//! TLB homework): a pointer chase in random order that touches one word per page over N pages,
//! pinned to one CPU, the minimum time per access over several trials. While the N pages fit
//! in the L1 DTLB each access costs a cache hit; past its reach a second-level TLB hit is
//! added, past that a page walk: the curve rises in steps ("knees"), and the sizes before
//! them bound the TLB sizes.
//!
//! Each page's word sits on a different cache line (byte `64 i mod page size` of page `i`),
//! so that the lines the chase touches spread over the cache sets instead of piling into one
//! (with 2 MiB pages over every set of a 2 MiB cache, not only the 64 a 4 KiB stride reaches).
//! N pages
//! are then also N cache lines (N × 64 bytes), so a knee can come from a data cache filling:
//! [`attribute`] names the knees whose footprint brackets a cache's size, and the remaining
//! knees, in order, are the first- and second-level TLBs.
use crate::sys::{chase_step, pin_to_cpu, Mapping};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::Serialize;
use std::time::Instant;

/// How to probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeConfig {
    /// Bytes per page (4 KiB, or 2 MiB with huge pages).
    pub page: usize,
    /// Largest page count.
    pub max_pages: usize,
    /// Accesses timed per trial.
    pub steps: u64,
    /// Trials per size (the minimum is kept).
    pub trials: u32,
    /// CPU to pin to.
    pub cpu: usize,
    /// Ask for transparent huge pages (MADV_HUGEPAGE).
    pub huge: bool,
    /// Seed of the random order.
    pub seed: u64,
}

/// One size's result.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Point {
    /// Pages chased.
    pub pages: usize,
    /// Minimum nanoseconds per access.
    pub ns: f64,
}

/// A rise in the curve: the last size before it and the first after.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Knee {
    /// The largest size before the rise (the TLB holds at least this many pages).
    pub fits: usize,
    /// The first size after it (the TLB holds fewer).
    pub exceeds: usize,
    /// ns per access before and after.
    pub ns_before: f64,
    /// ns per access after.
    pub ns_after: f64,
}

/// A failed probe.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// mmap, madvise or sched_setaffinity failed.
    #[error("{what}: {error}")]
    Sys {
        /// Which call.
        what: &'static str,
        /// Why.
        error: std::io::Error,
    },
}

/// Page counts probed: powers of two and the midpoints between them (1, 2, 3, 4, 6, 8, 12...).
pub fn sizes(max: usize) -> Vec<usize> {
    let mut v = vec![1];
    let mut p = 2;
    while p <= max {
        if p >= 4 {
            v.push(p / 2 + p / 4);
        }
        v.push(p);
        p *= 2;
    }
    v.dedup();
    v
}

/// The curve of one probe.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Curve {
    /// One point per size.
    pub points: Vec<Point>,
    /// KiB of the chased region in transparent huge pages (`AnonHugePages` of its areas),
    /// read while it is still mapped; `None` when smaps could not be read.
    pub huge_kib: Option<u64>,
}

/// Runs the probe, reporting each size as it is measured.
pub fn probe(cfg: &ProbeConfig, mut on_point: impl FnMut(&Point)) -> Result<Curve, ProbeError> {
    let sys = |what| move |error| ProbeError::Sys { what, error };
    pin_to_cpu(cfg.cpu).map_err(sys("sched_setaffinity"))?;
    let max = cfg.max_pages.max(1);
    // One page more than needed, so that a 2 MiB-aligned start can be chosen.
    let m = Mapping::anonymous(None, (max + 1) * cfg.page, false).map_err(sys("mmap"))?;
    if cfg.huge {
        m.advise_hugepage().map_err(sys("madvise(MADV_HUGEPAGE)"))?;
    }
    let base = (m.addr() as usize).next_multiple_of(cfg.page) - m.addr() as usize;
    let slot = |page: usize| base + page * cfg.page + (page * 64) % cfg.page;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(cfg.seed);
    let mut out = Vec::new();
    for n in sizes(max) {
        // A random cyclic order of the first n pages.
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut rng);
        for i in 0..n {
            let next = slot(order[(i + 1) % n]);
            m.write_u64(slot(order[i]), next as u64);
        }
        let mut best = f64::INFINITY;
        let mut at = slot(order[0]);
        // One untimed pass warms the caches and TLBs.
        for _ in 0..n.max(1024) {
            at = chase_step(&m, at);
        }
        for _ in 0..cfg.trials.max(1) {
            let t = Instant::now();
            for _ in 0..cfg.steps {
                at = chase_step(&m, at);
            }
            let ns = t.elapsed().as_nanos() as f64 / cfg.steps as f64;
            best = best.min(ns);
        }
        std::hint::black_box(at);
        let p = Point { pages: n, ns: best };
        on_point(&p);
        out.push(p);
    }
    let huge_kib = crate::wss::areas(crate::inspect::Target::SelfProcess)
        .ok()
        .map(|areas| {
            areas
                .iter()
                .filter(|a| a.area.start < m.addr() + m.len() as u64 && a.area.end > m.addr())
                .map(|a| a.counts.anon_huge_pages)
                .sum()
        });
    Ok(Curve {
        points: out,
        huge_kib,
    })
}

/// Finds the rises: consecutive sizes whose time grows by more than `ratio` (and by at least
/// 0.3 ns, so noise on a flat curve is not a knee); a run of rising steps is one knee, from
/// the last size before the run to the first size of it. The true curve never falls as pages
/// are added, so each time is first lowered to the minimum of it and all later ones: a
/// measurement that another process's load pushed up cannot make a knee of its own.
pub fn knees(points: &[Point], ratio: f64) -> Vec<Knee> {
    let mut floor: Vec<Point> = points.to_vec();
    for i in (0..floor.len().saturating_sub(1)).rev() {
        floor[i].ns = floor[i].ns.min(floor[i + 1].ns);
    }
    let mut out: Vec<Knee> = Vec::new();
    let mut in_rise = false;
    for w in floor.windows(2) {
        let (a, b) = (w[0], w[1]);
        let rises = b.ns > a.ns * ratio && b.ns - a.ns >= 0.3;
        if rises && !in_rise {
            out.push(Knee {
                fits: a.pages,
                exceeds: b.pages,
                ns_before: a.ns,
                ns_after: b.ns,
            });
        } else if rises {
            if let Some(k) = out.last_mut() {
                k.ns_after = b.ns;
            }
        }
        in_rise = rises;
    }
    out
}

/// What a knee comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "cause", rename_all = "snake_case")]
pub enum KneeCause {
    /// The lines touched outgrew this data cache.
    DataCache {
        /// Its level.
        level: u8,
        /// Its size.
        bytes: u64,
    },
    /// A TLB level (1 = the first TLB knee not due to a cache).
    Tlb {
        /// 1, 2, ...
        level: u8,
    },
}

/// Attributes each knee: to the first data cache whose size lies in `[fits × 64,
/// exceeds × 64]` bytes (a cache exactly as large as the lines misses already: its sets
/// are not filled evenly) (one 64-byte line per page), else to the next TLB level.
pub fn attribute(knees: &[Knee], caches: &[crate::caches::Cache]) -> Vec<KneeCause> {
    let mut tlb = 0;
    knees
        .iter()
        .map(|k| {
            let lo = k.fits as u64 * 64;
            let hi = k.exceeds as u64 * 64;
            match caches.iter().find(|c| lo <= c.bytes && c.bytes <= hi) {
                Some(c) => KneeCause::DataCache {
                    level: c.level,
                    bytes: c.bytes,
                },
                None => {
                    tlb += 1;
                    KneeCause::Tlb { level: tlb }
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pts(v: &[(usize, f64)]) -> Vec<Point> {
        v.iter().map(|&(pages, ns)| Point { pages, ns }).collect()
    }

    #[test]
    fn sizes_are_powers_and_midpoints() {
        assert_eq!(sizes(16), vec![1, 2, 3, 4, 6, 8, 12, 16]);
        assert_eq!(*sizes(32768).last().unwrap(), 32768);
        assert_eq!(sizes(32768).len(), 30);
    }

    #[test]
    fn knees_are_found_at_each_step_and_noise_is_not_one() {
        // Flat at 1 ns to 64 pages, 3 ns to 1536, then 10 ns: two knees.
        let p = pts(&[
            (16, 1.0),
            (24, 1.05),
            (32, 1.0),
            (48, 1.1),
            (64, 1.0),
            (96, 3.0),
            (128, 3.1),
            (1024, 3.0),
            (1536, 3.2),
            (2048, 8.0),
            (3072, 11.0),
            (4096, 11.1),
        ]);
        let k = knees(&p, 1.25);
        assert_eq!(k.len(), 2);
        assert_eq!((k[0].fits, k[0].exceeds), (64, 96));
        assert_eq!((k[1].fits, k[1].exceeds, k[1].ns_after), (1536, 2048, 11.0));
        assert!(knees(&pts(&[(1, 1.0), (2, 1.2), (3, 0.9)]), 1.25).is_empty());
        // A spike that later sizes undercut is load, not a knee.
        let k = knees(&pts(&[(1, 1.0), (2, 5.0), (3, 1.1), (4, 4.0)]), 1.25);
        assert_eq!(k.len(), 1);
        assert_eq!((k[0].fits, k[0].exceeds, k[0].ns_before), (3, 4, 1.1));
    }

    #[test]
    fn knees_that_a_cache_explains_are_not_tlbs() {
        let k = |fits, exceeds| Knee {
            fits,
            exceeds,
            ns_before: 1.0,
            ns_after: 2.0,
        };
        let l1d = crate::caches::Cache {
            level: 1,
            kind: "Data".into(),
            bytes: 48 << 10,
        };
        let c = attribute(
            &[k(96, 128), k(512, 768), k(1536, 2048)],
            std::slice::from_ref(&l1d),
        );
        assert_eq!(
            c,
            vec![
                KneeCause::Tlb { level: 1 },
                KneeCause::DataCache {
                    level: 1,
                    bytes: 48 << 10
                },
                KneeCause::Tlb { level: 2 }
            ]
        );
        assert_eq!(
            attribute(&[k(768, 1024)], &[l1d])[0],
            KneeCause::DataCache {
                level: 1,
                bytes: 48 << 10
            }
        );
        assert_eq!(
            attribute(&[k(1024, 1536)], &[])[0],
            KneeCause::Tlb { level: 1 }
        );
    }

    #[test]
    fn a_tiny_probe_measures_every_size() {
        let cfg = ProbeConfig {
            page: 4096,
            max_pages: 8,
            steps: 1000,
            trials: 1,
            cpu: 0,
            huge: false,
            seed: 1,
        };
        let mut seen = 0;
        let c = probe(&cfg, |_| seen += 1).unwrap();
        assert_eq!(c.huge_kib, Some(0), "4 KiB pages were asked for");
        let p = c.points;
        assert_eq!(
            p.iter().map(|p| p.pages).collect::<Vec<_>>(),
            vec![1, 2, 3, 4, 6, 8]
        );
        assert_eq!(seen, 6);
        assert!(p.iter().all(|p| p.ns > 0.0 && p.ns.is_finite()));
    }
}
