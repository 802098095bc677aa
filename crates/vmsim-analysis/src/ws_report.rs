//! The working-set report of a page stream, as `vmsim ws` prints it and Python's `vmsim.ws`
//! returns it: the mean working-set size for every window τ, the size over time at one window,
//! how often the working set outgrows a memory size, and the reuse-distance histogram. Built in
//! one streaming pass ([`WsPass`]) plus, for the size over time (whose points are placed by the
//! stream's length), a second one ([`OverTime`]); only per-page and per-window state is kept.
use crate::mrc::LruStack;
use crate::ws::{WindowSize, WorkingSetCurve};
use serde::Serialize;

/// What to report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsOptions {
    /// The window τ of the size over time and the thrashing report (at least 1).
    pub window: usize,
    /// Windows of the mean-size curve (default: powers of two up to the stream's length).
    pub taus: Option<Vec<usize>>,
    /// Memory sizes of the thrashing report (default: quarters of the largest working set).
    pub frames: Option<Vec<usize>>,
}

/// The mean working-set size at one window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MeanSize {
    /// The window, in references.
    pub tau: usize,
    /// The mean of |W(t, τ)| over the stream.
    pub mean: f64,
}

/// The working-set size at one time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SizeAt {
    /// The reference number, from 0.
    pub t: usize,
    /// |W(t, window)|.
    pub size: usize,
}

/// How often the working set is larger than a memory.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Thrashing {
    /// The memory size, in frames.
    pub frames: usize,
    /// The share of references at which |W(t, window)| exceeds it.
    pub fraction_over: f64,
}

/// References whose reuse distance lies in `from..=to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ReuseBucket {
    /// Smallest distance of the bucket.
    pub from: usize,
    /// Largest distance of the bucket.
    pub to: usize,
    /// References in it.
    pub count: u64,
}

/// The reuse-distance histogram in power-of-two buckets: [1], [2, 3], [4, 7], ...
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reuse {
    /// First uses (no reuse distance): the number of distinct pages.
    pub cold: u64,
    /// The buckets, in order.
    pub buckets: Vec<ReuseBucket>,
}

/// The report; it serialises to `vmsim ws --json`'s document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WsReport {
    /// The trace's name.
    pub trace: String,
    /// Page references in the stream.
    pub references: usize,
    /// Distinct pages.
    pub footprint: u64,
    /// The window of the size over time and the thrashing report.
    pub window: usize,
    /// Mean |W(t, window)|.
    pub mean_size_at_window: f64,
    /// Largest |W(t, window)|.
    pub peak_size_at_window: usize,
    /// The mean size for every τ asked.
    pub mean_size: Vec<MeanSize>,
    /// The size over time (empty unless an [`OverTime`] pass filled it).
    pub over_time: Vec<SizeAt>,
    /// The thrashing report.
    pub thrashing: Vec<Thrashing>,
    /// Reuse distances.
    pub reuse: Reuse,
}

/// The first pass over a stream.
pub struct WsPass {
    options: WsOptions,
    candidates: Vec<usize>,
    curve: WorkingSetCurve,
    window: WindowSize,
    /// `by_size[w]`: references at which |W(t, window)| = w.
    by_size: Vec<u64>,
    lru: LruStack,
    n: usize,
}

impl WsPass {
    /// A pass reporting what `options` ask (`options.window` at least 1).
    pub fn new(options: WsOptions) -> Self {
        let candidates: Vec<usize> = match &options.taus {
            Some(t) => t.clone(),
            None => std::iter::successors(Some(1usize), |&x| x.checked_mul(2)).collect(),
        };
        let mut windows = candidates.clone();
        windows.push(options.window);
        WsPass {
            curve: WorkingSetCurve::new(&windows),
            window: WindowSize::new(options.window),
            candidates,
            options,
            by_size: Vec::new(),
            lru: LruStack::new(),
            n: 0,
        }
    }

    /// One page reference.
    #[inline]
    pub fn access(&mut self, page: u64) {
        self.curve.access(page);
        let w = self.window.access(page);
        if self.by_size.len() <= w {
            self.by_size.resize(w + 1, 0);
        }
        self.by_size[w] += 1;
        let _ = self.lru.access(page);
        self.n += 1;
    }

    /// References seen so far.
    pub fn references(&self) -> usize {
        self.n
    }

    /// The report of the stream named `trace` (at least one reference seen), without the size
    /// over time.
    pub fn finish(self, trace: &str) -> WsReport {
        let n = self.n;
        let taus = self.options.taus.clone().unwrap_or_else(|| {
            self.candidates
                .iter()
                .copied()
                .take_while(|&x| x <= n)
                .collect()
        });
        let mut asked = taus.clone();
        asked.push(self.options.window);
        let mut means_at = self.curve.finish(&asked);
        let mean_w = means_at.pop().flatten().unwrap_or(0.0);
        let mean_size = taus
            .iter()
            .zip(means_at)
            .map(|(&tau, m)| MeanSize {
                tau,
                mean: m.unwrap_or(0.0),
            })
            .collect();
        let peak = self.by_size.len().saturating_sub(1);
        let frames = self.options.frames.clone().unwrap_or_else(|| {
            let mut v: Vec<usize> = (1..=4).map(|q| (peak * q / 4).max(1)).collect();
            v.dedup();
            v
        });
        let thrashing = frames
            .iter()
            .map(|&m| {
                let over: u64 = self.by_size.iter().skip(m.saturating_add(1)).sum();
                Thrashing {
                    frames: m,
                    fraction_over: over as f64 / n as f64,
                }
            })
            .collect();
        let hist = self.lru.into_histogram().hist;
        let mut buckets: Vec<ReuseBucket> = Vec::new();
        for (d, &c) in hist.iter().enumerate().skip(1) {
            let b = d.ilog2() as usize;
            while buckets.len() <= b {
                let lo = 1usize << buckets.len();
                buckets.push(ReuseBucket {
                    from: lo,
                    to: 2 * lo - 1,
                    count: 0,
                });
            }
            buckets[b].count += c;
        }
        let reused: u64 = buckets.iter().map(|b| b.count).sum();
        // Every distinct page's first use is the one reference without a reuse distance.
        let cold = n as u64 - reused;
        WsReport {
            trace: trace.to_string(),
            references: n,
            footprint: cold,
            window: self.options.window,
            mean_size_at_window: mean_w,
            peak_size_at_window: peak,
            mean_size,
            over_time: Vec::new(),
            thrashing,
            reuse: Reuse { cold, buckets },
        }
    }
}

/// The second pass: |W(t, window)| at `points` evenly spaced references of a stream of known
/// length.
pub struct OverTime {
    window: WindowSize,
    step: usize,
    t: usize,
    points: Vec<SizeAt>,
}

impl OverTime {
    /// Samples for a stream of `references` references (`points` at least 1).
    pub fn new(window: usize, references: usize, points: usize) -> Self {
        OverTime {
            window: WindowSize::new(window),
            step: references.div_ceil(points).max(1),
            t: 0,
            points: Vec::new(),
        }
    }

    /// One page reference.
    #[inline]
    pub fn access(&mut self, page: u64) {
        let w = self.window.access(page);
        if self.t.is_multiple_of(self.step) {
            self.points.push(SizeAt { t: self.t, size: w });
        }
        self.t += 1;
    }

    /// The samples.
    pub fn finish(self) -> Vec<SizeAt> {
        self.points
    }
}
