//! Denning's working set W(t, τ), the distinct pages referenced in the last τ references:
//! its average size for every τ in one pass, its size over time, and how often it exceeds a
//! memory size (thrashing) (Denning, "The Working Set Model for Program Behavior", CACM 1968;
//! Denning and Schwartz, "Properties of the Working-Set Model", CACM 1972).

use rustc_hash::FxHashMap;

/// Forward gaps of a trace, summarised so the mean working-set size is exact for every τ.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkingSetCurve {
    /// References.
    pub accesses: u64,
    /// `gaps[g]`: references whose page is next referenced `g` later (or, if never, whose
    /// distance to the end of the trace is `g`).
    gaps: Vec<u64>,
}

impl WorkingSetCurve {
    /// Builds the curve of `pages`.
    pub fn build(pages: &[u64]) -> Self {
        let n = pages.len();
        let mut next: FxHashMap<u64, usize> = FxHashMap::default();
        let mut gaps = vec![0u64; n + 1];
        for (i, &p) in pages.iter().enumerate().rev() {
            let until = next.insert(p, i).unwrap_or(n);
            gaps[until - i] += 1;
        }
        WorkingSetCurve {
            accesses: n as u64,
            gaps,
        }
    }

    /// The mean of |W(t, τ)| over every time t of the trace (0 for an empty trace): each
    /// reference at time i keeps its page in the working set for min(τ, gap) times.
    pub fn mean_size(&self, tau: usize) -> f64 {
        if self.accesses == 0 {
            return 0.0;
        }
        let mut sum: u64 = 0;
        for (g, &c) in self.gaps.iter().enumerate() {
            sum += c * (g.min(tau) as u64);
        }
        sum as f64 / self.accesses as f64
    }
}

/// |W(t, τ)| for every time t (window ending at and including reference t).
pub fn size_over_time(pages: &[u64], tau: usize) -> Vec<usize> {
    let mut counts: FxHashMap<u64, u32> = FxHashMap::default();
    let mut out = Vec::with_capacity(pages.len());
    for (t, &p) in pages.iter().enumerate() {
        if tau > 0 {
            *counts.entry(p).or_insert(0) += 1;
        }
        if tau > 0 && t >= tau {
            let old = pages[t - tau];
            if let Some(c) = counts.get_mut(&old) {
                *c -= 1;
                if *c == 0 {
                    counts.remove(&old);
                }
            }
        }
        out.push(counts.len());
    }
    out
}

/// The fraction of times at which the working set of window `tau` exceeds `frames` pages.
pub fn thrashing_fraction(pages: &[u64], tau: usize, frames: usize) -> f64 {
    if pages.is_empty() {
        return 0.0;
    }
    let over = size_over_time(pages, tau)
        .iter()
        .filter(|&&w| w > frames)
        .count();
    over as f64 / pages.len() as f64
}

/// Histogram of reuse distances (distinct pages between two references to the same page,
/// counting the page itself; the LRU stack distance); first references are not counted.
pub fn reuse_histogram(pages: &[u64]) -> Vec<u64> {
    crate::mrc::lru_histogram(pages.iter().copied()).hist
}
