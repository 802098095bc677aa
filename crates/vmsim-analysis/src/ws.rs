//! Denning's working set W(t, τ), the distinct pages referenced in the last τ references:
//! its average size for every τ in one pass, its size over time, and how often it exceeds a
//! memory size (thrashing) (Denning, "The Working Set Model for Program Behavior", CACM 1968;
//! Denning and Schwartz, "Properties of the Working-Set Model", CACM 1972).

use rustc_hash::FxHashMap;
use std::collections::VecDeque;

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

/// |W(t, τ)| streaming, one reference at a time: the last τ pages and a count per distinct page
/// among them, so memory is bounded by τ whatever the trace's length.
#[derive(Debug, Clone, Default)]
pub struct WindowedSet {
    tau: usize,
    window: VecDeque<u64>,
    counts: FxHashMap<u64, u32>,
}

impl WindowedSet {
    /// An empty window of `tau` references (a window of 0 is always empty).
    pub fn new(tau: usize) -> Self {
        WindowedSet {
            tau,
            window: VecDeque::with_capacity(tau.min(1 << 20)),
            counts: FxHashMap::default(),
        }
    }

    /// References `page`; returns |W(t, τ)|, the distinct pages of the window ending at and
    /// including this reference.
    pub fn push(&mut self, page: u64) -> usize {
        if self.tau == 0 {
            return 0;
        }
        *self.counts.entry(page).or_insert(0) += 1;
        self.window.push_back(page);
        if self.window.len() > self.tau {
            if let Some(old) = self.window.pop_front() {
                if let Some(c) = self.counts.get_mut(&old) {
                    *c -= 1;
                    if *c == 0 {
                        self.counts.remove(&old);
                    }
                }
            }
        }
        self.counts.len()
    }
}

/// |W(t, τ)| for every time t (window ending at and including reference t).
pub fn size_over_time(pages: &[u64], tau: usize) -> Vec<usize> {
    let mut w = WindowedSet::new(tau);
    pages.iter().map(|&p| w.push(p)).collect()
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
