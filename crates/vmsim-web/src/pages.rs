//! The page-stream analyses a report draws beside the run: the exact LRU miss-ratio curve of the
//! trace's pages (Mattson's stack distances, one pass), OPT's curve, and the working-set size
//! over time, computed by `vmsim-analysis` over the same records the run replayed.
//!
//! Everything is streamed, so memory does not grow with the trace's length, except OPT, which
//! needs the future: it runs over at most [`PageOptions::opt_cap`] references (its priority
//! stack costs up to the footprint per reference), and when it is capped the LRU curve of the
//! same prefix comes with it so the two compare like for like. The working-set series keeps at
//! most `2 × points` evenly spaced samples; the page says when either was cut.
use crate::WebError;
use serde::Serialize;
use vmsim_analysis::mrc::{opt_histogram, LruStack, StackHistogram};
use vmsim_analysis::ws::WindowSize;
use vmsim_core::PageSize;
use vmsim_trace::pages::span;
use vmsim_trace::{Record, TraceReader};

/// Cache sizes at most this many are drawn one by one; larger footprints get as many sizes
/// spread evenly on a log scale.
const CURVE_POINTS: usize = 400;

/// What to analyse and how finely.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageOptions {
    /// The page size references are counted in.
    pub page_size: PageSize,
    /// Records to read (`None`: the whole trace), as the run's `--limit`.
    pub limit: Option<u64>,
    /// References OPT's curve is computed over at most.
    pub opt_cap: usize,
    /// The working-set window τ, in references.
    pub ws_window: usize,
    /// Samples of the working-set size over time: between this and twice this many.
    pub points: usize,
}

impl PageOptions {
    /// The defaults for pages of `page_size`: OPT over the first 2 M references, a window of
    /// 10 000 references, 500 samples.
    pub fn new(page_size: PageSize) -> Self {
        PageOptions {
            page_size,
            limit: None,
            opt_cap: 2_000_000,
            ws_window: 10_000,
            points: 500,
        }
    }
}

/// Miss ratios for a set of cache sizes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MissRatioCurves {
    /// Cache sizes in frames, increasing.
    pub frames: Vec<u64>,
    /// Exact LRU miss ratio of the whole stream at each size.
    pub lru: Vec<f64>,
    /// OPT's miss ratio over the first `opt_references` references.
    pub opt: Vec<f64>,
    /// References OPT saw.
    pub opt_references: u64,
    /// Whether OPT stopped before the end of the stream.
    pub opt_capped: bool,
    /// When OPT was capped, LRU's miss ratio over the same prefix.
    pub lru_prefix: Option<Vec<f64>>,
}

/// The working-set size over time, sampled.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkingSetSeries {
    /// The window τ in references.
    pub window: usize,
    /// References between samples (1: every reference).
    pub step: u64,
    /// The reference number (from 0) of each sample.
    pub at: Vec<u64>,
    /// |W(t, τ)| in pages at each sample.
    pub size: Vec<u64>,
    /// The largest |W(t, τ)| at any reference, sampled or not.
    pub peak: u64,
}

/// The page-stream analyses of a trace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PageAnalysis {
    /// The page size, as `vmsim run` names it (`4K`).
    pub page_size: String,
    /// Page references (a record crossing a page boundary counts once per page).
    pub references: u64,
    /// Distinct pages.
    pub footprint: u64,
    /// LRU and OPT miss-ratio curves.
    pub mrc: MissRatioCurves,
    /// The working-set size over time.
    pub working_set: WorkingSetSeries,
}

/// Evenly spaced samples of a stream of unknown length: every `step`-th value, the step
/// doubled (and every other sample dropped) whenever the samples pass twice the target.
struct Sampler {
    target: usize,
    step: u64,
    at: Vec<u64>,
    values: Vec<u64>,
}

impl Sampler {
    fn new(target: usize) -> Self {
        Sampler {
            target: target.max(1),
            step: 1,
            at: Vec::new(),
            values: Vec::new(),
        }
    }

    fn offer(&mut self, t: u64, value: u64) {
        if !t.is_multiple_of(self.step) {
            return;
        }
        self.at.push(t);
        self.values.push(value);
        if self.at.len() > 2 * self.target {
            // Samples sit at multiples of `step` from 0: the even ones are multiples of 2 step.
            let keep = |v: &mut Vec<u64>| {
                let mut i = 0;
                v.retain(|_| {
                    i += 1;
                    i % 2 == 1
                });
            };
            keep(&mut self.at);
            keep(&mut self.values);
            self.step *= 2;
        }
    }
}

/// The cache sizes a curve is drawn at: every size up to the footprint when it is small, else
/// [`CURVE_POINTS`] sizes spread evenly on a log scale from 1 to the footprint.
fn curve_sizes(footprint: u64) -> Vec<u64> {
    if footprint <= CURVE_POINTS as u64 {
        return (1..=footprint.max(1)).collect();
    }
    let top = (footprint as f64).ln();
    let mut v: Vec<u64> = (0..CURVE_POINTS)
        .map(|i| (top * i as f64 / (CURVE_POINTS - 1) as f64).exp().round() as u64)
        .collect();
    v.push(footprint);
    v.dedup();
    v
}

fn ratios(h: &StackHistogram, sizes: &[u64]) -> Vec<f64> {
    sizes
        .iter()
        .map(|&n| h.miss_ratio(usize::try_from(n).unwrap_or(usize::MAX)))
        .collect()
}

impl PageAnalysis {
    /// Reads `reader` (at most `options.limit` records) and analyses its pages.
    pub fn of_trace(mut reader: TraceReader, options: &PageOptions) -> Result<Self, WebError> {
        if options.ws_window == 0 {
            return Err(WebError::Options(
                "the working-set window must be at least 1",
            ));
        }
        let mut lru = LruStack::new();
        let mut prefix: Vec<u64> = Vec::new();
        let mut lru_at_cap: Option<StackHistogram> = None;
        let mut ws = WindowSize::new(options.ws_window);
        let mut samples = Sampler::new(options.points);
        let mut peak = 0u64;
        let mut t = 0u64;
        let mut seen = 0u64;
        let limit = options.limit.unwrap_or(u64::MAX);
        let mut buf: Vec<Record> = Vec::with_capacity(1024);
        while seen < limit {
            let n = reader.read_batch(&mut buf)?;
            if n == 0 {
                break;
            }
            let take = usize::try_from(limit - seen).map_or(n, |l| n.min(l));
            for r in &buf[..take] {
                let (first, last) = span(r, options.page_size);
                for page in first..=last {
                    if prefix.len() < options.opt_cap {
                        prefix.push(page);
                    } else if lru_at_cap.is_none() {
                        // LRU over exactly the references OPT saw.
                        lru_at_cap = Some(lru.histogram().clone());
                    }
                    let _ = lru.access(page);
                    let w = ws.access(page) as u64;
                    peak = peak.max(w);
                    samples.offer(t, w);
                    t += 1;
                }
            }
            seen += take as u64;
        }
        let lru = lru.into_histogram();
        let frames = curve_sizes(lru.distinct());
        let opt = opt_histogram(&prefix);
        let mrc = MissRatioCurves {
            lru: ratios(&lru, &frames),
            opt: ratios(&opt, &frames),
            opt_references: prefix.len() as u64,
            opt_capped: lru_at_cap.is_some(),
            lru_prefix: lru_at_cap.map(|h| ratios(&h, &frames)),
            frames,
        };
        Ok(PageAnalysis {
            page_size: options.page_size.name(),
            references: lru.accesses,
            footprint: lru.distinct(),
            mrc,
            working_set: WorkingSetSeries {
                window: options.ws_window,
                step: samples.step,
                at: samples.at,
                size: samples.values,
                peak,
            },
        })
    }
}
