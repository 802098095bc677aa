//! The miss-ratio curves of a page stream, as `vmsim mrc` prints them and Python's `vmsim.mrc`
//! returns them: exact LRU for every size from one streaming pass (Mattson), OPT at the chosen
//! sizes, a SHARDS-sampled LRU curve with its error against the exact one, and any curves the
//! caller simulates (other policies, through the policy grid, fed the same batches) added with
//! [`MrcReport::push`].
use crate::mrc::{LruStack, Shards, StackHistogram};
use crate::opt_curve::opt_misses;
use serde::ser::{Serialize, SerializeMap, Serializer};

/// The first pass over a stream.
pub struct MrcPass {
    lru: LruStack,
    shards: Option<(f64, Shards)>,
    keep: bool,
    pages: Vec<u64>,
}

impl MrcPass {
    /// A pass with a SHARDS curve at `shards` (a rate in (0, 1]) if asked, keeping the pages
    /// when `keep` (OPT's curve needs them).
    pub fn new(shards: Option<f64>, keep: bool) -> Self {
        MrcPass {
            lru: LruStack::new(),
            shards: shards.map(|r| (r, Shards::new(r))),
            keep,
            pages: Vec::new(),
        }
    }

    /// A batch of (page, is-write) references.
    pub fn feed(&mut self, batch: &[(u64, bool)]) {
        for &(p, _) in batch {
            let _ = self.lru.access(p);
        }
        if let Some((_, s)) = &mut self.shards {
            batch.iter().for_each(|&(p, _)| s.access(p));
        }
        if self.keep {
            self.pages.extend(batch.iter().map(|r| r.0));
        }
    }

    /// The curves of the stream named `trace` at `sizes` (default: powers of two below the
    /// footprint, then the footprint), with OPT's when `opt` (the pass must have kept the
    /// pages); `None` for an empty stream.
    pub fn finish(self, trace: &str, sizes: Option<Vec<usize>>, opt: bool) -> Option<MrcReport> {
        let lru: StackHistogram = self.lru.into_histogram();
        if lru.accesses == 0 {
            return None;
        }
        let footprint = lru.distinct() as usize;
        let sizes = sizes.unwrap_or_else(|| {
            let mut v: Vec<usize> = std::iter::successors(Some(1usize), |&x| x.checked_mul(2))
                .take_while(|&x| x < footprint)
                .collect();
            v.push(footprint.max(1));
            v
        });
        let mut curves: Vec<(String, Vec<f64>)> = vec![(
            "lru".into(),
            sizes.iter().map(|&n| lru.miss_ratio(n)).collect(),
        )];
        if opt {
            let misses = opt_misses(&self.pages, &sizes);
            let total = lru.accesses as f64;
            curves.push((
                "opt".into(),
                misses.iter().map(|&m| m as f64 / total).collect(),
            ));
        }
        let mut shards_rate = None;
        let mut shards_max_error = None;
        if let Some((rate, s)) = self.shards {
            let s = s.finish();
            let max = sizes.iter().copied().max().unwrap_or(1);
            shards_rate = Some(rate);
            shards_max_error = Some(s.max_error(&lru, max));
            curves.push((
                "shards".into(),
                sizes.iter().map(|&n| s.miss_ratio(n)).collect(),
            ));
        }
        Some(MrcReport {
            trace: trace.to_string(),
            references: lru.accesses,
            footprint,
            sizes,
            curves,
            shards_rate,
            shards_max_error,
        })
    }
}

/// The curves; serialises to `vmsim mrc --json`'s document.
#[derive(Debug, Clone, PartialEq)]
pub struct MrcReport {
    /// The trace's name.
    pub trace: String,
    /// Page references in the stream.
    pub references: u64,
    /// Distinct pages.
    pub footprint: usize,
    /// The cache sizes, in frames.
    pub sizes: Vec<usize>,
    /// Every curve: its name and the miss ratio at each size.
    pub curves: Vec<(String, Vec<f64>)>,
    /// The SHARDS sampling rate, if sampled.
    pub shards_rate: Option<f64>,
    /// The SHARDS curve's largest error against exact LRU, if sampled.
    pub shards_max_error: Option<f64>,
}

impl MrcReport {
    /// Adds a curve (a miss ratio per size, in the order of [`MrcReport::sizes`]).
    pub fn push(&mut self, name: &str, ratios: Vec<f64>) {
        self.curves.push((name.to_string(), ratios));
    }
}

/// One size's row: its frames and every curve's miss ratio there.
struct Row<'a>(&'a MrcReport, usize);

impl Serialize for Row<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Row(r, i) = *self;
        let mut m = s.serialize_map(Some(r.curves.len() + 1))?;
        m.serialize_entry("frames", &r.sizes[i])?;
        for (c, ys) in &r.curves {
            m.serialize_entry(c, &ys[i])?;
        }
        m.end()
    }
}

impl Serialize for MrcReport {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let rows: Vec<Row<'_>> = (0..self.sizes.len()).map(|i| Row(self, i)).collect();
        let names: Vec<&str> = self.curves.iter().map(|c| c.0.as_str()).collect();
        let mut m = s.serialize_map(Some(7))?;
        m.serialize_entry("trace", &self.trace)?;
        m.serialize_entry("references", &self.references)?;
        m.serialize_entry("footprint", &self.footprint)?;
        m.serialize_entry("curves", &names)?;
        m.serialize_entry("shards_rate", &self.shards_rate)?;
        m.serialize_entry("shards_max_error", &self.shards_max_error)?;
        m.serialize_entry("curve", &rows)?;
        m.end()
    }
}
