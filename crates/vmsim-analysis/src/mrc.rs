//! Miss-ratio curves for every cache size in one pass: LRU stack distances with a Fenwick tree
//! over reference times (O(log n) per reference), OPT by Mattson's priority-stack algorithm with
//! next-use priority, and SHARDS fixed-rate spatial sampling (Mattson, Gecsei, Slutz and Traiger,
//! "Evaluation Techniques for Storage Hierarchies", IBM Systems Journal 1970; Waldspurger et al.,
//! "Efficient MRC Construction with SHARDS", FAST 2015).

use rustc_hash::FxHashMap;
use vmsim_core::replace::opt::next_uses;

/// A histogram of stack distances: for every cache size `c`, a reference misses exactly when
/// its distance exceeds `c` (or it is a first reference).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StackHistogram {
    /// References seen.
    pub accesses: u64,
    /// First references (infinite distance).
    pub cold: u64,
    /// `hist[d]`: references at stack distance `d` (1 = the most recently used page);
    /// `hist[0]` is unused.
    pub hist: Vec<u64>,
}

impl StackHistogram {
    fn add(&mut self, d: Option<usize>) {
        self.accesses += 1;
        match d {
            None => self.cold += 1,
            Some(d) => {
                if self.hist.len() <= d {
                    self.hist.resize(d + 1, 0);
                }
                self.hist[d] += 1;
            }
        }
    }

    /// Distinct pages (the largest useful cache size).
    pub fn distinct(&self) -> u64 {
        self.cold
    }

    /// Misses with `size` frames (any size: at and above the footprint only cold misses).
    pub fn misses(&self, size: usize) -> u64 {
        let hits: u64 = self.hist.iter().take(size.saturating_add(1)).sum();
        self.accesses - hits
    }

    /// Miss ratio with `size` frames (0 for an empty trace).
    pub fn miss_ratio(&self, size: usize) -> f64 {
        if self.accesses == 0 {
            0.0
        } else {
            self.misses(size) as f64 / self.accesses as f64
        }
    }

    /// Misses for every size `0..=distinct` in one pass: `curve[c]` = misses with `c` frames.
    pub fn miss_curve(&self) -> Vec<u64> {
        let n = self.distinct() as usize;
        let mut out = Vec::with_capacity(n + 1);
        let mut misses = self.accesses;
        out.push(misses);
        for c in 1..=n {
            misses -= self.hist.get(c).copied().unwrap_or(0);
            out.push(misses);
        }
        out
    }
}

/// A set of positions (one mark per page, at the time of its last reference) that counts the
/// marks up to a position in O(log n): a bitmap of 64-position words under a Fenwick tree of
/// per-word counts. The bitmap and the tree are 1/8 and 1/16 of a byte per position, so both
/// stay in cache where a Fenwick tree over positions would not.
#[derive(Debug, Clone)]
struct Marks {
    words: Vec<u64>,
    /// Fenwick tree over `words` (1-based).
    counts: Vec<u32>,
}

impl Marks {
    fn new(positions: usize) -> Self {
        let n = positions.div_ceil(64);
        Marks {
            words: vec![0; n],
            counts: vec![0; n + 1],
        }
    }

    fn len(&self) -> usize {
        self.words.len() * 64
    }

    #[inline]
    fn add_count(&mut self, word: usize, delta: i32) {
        let mut i = word + 1;
        while i < self.counts.len() {
            self.counts[i] = self.counts[i].wrapping_add_signed(delta);
            i += i & i.wrapping_neg();
        }
    }

    #[inline]
    fn set(&mut self, pos: usize) {
        self.words[pos / 64] |= 1 << (pos % 64);
        self.add_count(pos / 64, 1);
    }

    #[inline]
    fn clear(&mut self, pos: usize) {
        self.words[pos / 64] &= !(1 << (pos % 64));
        self.add_count(pos / 64, -1);
    }

    /// Marks at positions `0..=pos`.
    #[inline]
    fn prefix(&self, pos: usize) -> u32 {
        let w = pos / 64;
        let upto = self.words[w] & (u64::MAX >> (63 - pos % 64));
        let mut s = upto.count_ones();
        let mut i = w;
        while i > 0 {
            s += self.counts[i];
            i &= i - 1;
        }
        s
    }
}

/// Exact LRU stack distances, streaming: feed references one at a time.
///
/// Memory: a hash entry (page → time of last reference) per distinct page plus about two
/// bytes of [`Marks`] per distinct page: times run up to eight times the distinct pages before
/// they are renumbered, so renumbering costs an eighth of a hash update per reference.
#[derive(Debug, Clone)]
pub struct LruStack {
    last: FxHashMap<u64, u32>,
    tree: Marks,
    now: usize,
    hist: StackHistogram,
}

impl Default for LruStack {
    fn default() -> Self {
        LruStack::new()
    }
}

impl LruStack {
    /// An empty stack.
    pub fn new() -> Self {
        LruStack {
            last: FxHashMap::default(),
            tree: Marks::new(1 << 16),
            now: 0,
            hist: StackHistogram::default(),
        }
    }

    /// Renumbers the live marks to `0..distinct` and regrows the tree.
    fn compact(&mut self) {
        let mut live: Vec<(u32, u64)> = self.last.iter().map(|(&p, &t)| (t, p)).collect();
        live.sort_unstable();
        let size = (live.len() * 8).max(1 << 16);
        self.tree = Marks::new(size);
        for (i, &(_, p)) in live.iter().enumerate() {
            self.last.insert(p, i as u32);
            self.tree.set(i);
        }
        self.now = live.len();
    }

    /// One reference; returns its stack distance (`None` for a first reference).
    #[inline]
    pub fn access(&mut self, page: u64) -> Option<usize> {
        if self.now >= self.tree.len() {
            self.compact();
        }
        let now = self.now;
        let d = match self.last.insert(page, now as u32) {
            Some(t) => {
                let t = t as usize;
                let live = self.last.len() as u32; // includes `page` once
                let d = (live - self.tree.prefix(t)) as usize + 1;
                self.tree.clear(t);
                Some(d)
            }
            None => None,
        };
        self.tree.set(now);
        self.now += 1;
        self.hist.add(d);
        d
    }

    /// The histogram so far.
    pub fn histogram(&self) -> &StackHistogram {
        &self.hist
    }

    /// The histogram, consuming the stack.
    pub fn into_histogram(self) -> StackHistogram {
        self.hist
    }
}

/// Exact LRU stack-distance histogram of `pages`.
pub fn lru_histogram<I: IntoIterator<Item = u64>>(pages: I) -> StackHistogram {
    let mut s = LruStack::new();
    for p in pages {
        s.access(p);
    }
    s.into_histogram()
}

/// OPT's stack-distance histogram of `pages` by the priority-stack algorithm: priority is the
/// time of next use (sooner is higher, never-again pages ordered by page number, as
/// [`vmsim_core::replace::opt::Opt`] breaks ties). O(distance) per reference.
pub fn opt_histogram(pages: &[u64]) -> StackHistogram {
    let next = next_uses(pages);
    let mut prio: FxHashMap<u64, u64> = FxHashMap::default();
    let mut stack: Vec<u64> = Vec::new();
    let mut hist = StackHistogram::default();
    // Lower key = higher priority.
    let key = |prio: &FxHashMap<u64, u64>, p: u64| (prio.get(&p).copied().unwrap_or(0), p);
    for (t, &x) in pages.iter().enumerate() {
        prio.insert(x, next[t]);
        let pos = stack.iter().position(|&p| p == x);
        hist.add(pos.map(|i| i + 1));
        let end = pos.unwrap_or(stack.len());
        if end == 0 && pos.is_some() {
            continue;
        }
        if stack.is_empty() {
            stack.push(x);
            continue;
        }
        let mut carry = stack[0];
        stack[0] = x;
        for slot in stack.iter_mut().take(end).skip(1) {
            if key(&prio, *slot) > key(&prio, carry) {
                std::mem::swap(slot, &mut carry);
            }
        }
        if pos.is_some() {
            stack[end] = carry;
        } else {
            stack.push(carry);
        }
    }
    hist
}

/// A miss-ratio curve from SHARDS fixed-rate sampling: only pages whose hash falls below
/// `rate` are simulated, and their distances are scaled by `1 / rate`.
#[derive(Debug, Clone, PartialEq)]
pub struct ShardsCurve {
    /// Sampling rate in (0, 1].
    pub rate: f64,
    /// Stack distances of the sampled references.
    pub sampled: StackHistogram,
    /// References seen, sampled or not.
    pub total: u64,
}

/// The 64-bit finaliser of SplitMix64, a fast hash with good avalanche.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// SHARDS sampling in progress, fed one reference at a time.
#[derive(Debug, Clone)]
pub struct Shards {
    rate: f64,
    threshold: u64,
    stack: LruStack,
    total: u64,
}

impl Shards {
    /// A sampler at `rate` (clamped to (0, 1]).
    pub fn new(rate: f64) -> Self {
        let rate = if rate.is_finite() && rate > 0.0 {
            rate.min(1.0)
        } else {
            1.0
        };
        Shards {
            rate,
            threshold: (rate * (1u64 << 24) as f64) as u64,
            stack: LruStack::new(),
            total: 0,
        }
    }

    /// One reference: simulated only if the page's hash falls in the sample.
    #[inline]
    pub fn access(&mut self, page: u64) {
        self.total += 1;
        if mix(page) & 0xff_ffff < self.threshold {
            let _ = self.stack.access(page);
        }
    }

    /// The curve of the references seen.
    pub fn finish(self) -> ShardsCurve {
        ShardsCurve {
            rate: self.rate,
            sampled: self.stack.into_histogram(),
            total: self.total,
        }
    }
}

impl ShardsCurve {
    /// Samples `pages` at `rate` (clamped to (0, 1]).
    pub fn build<I: IntoIterator<Item = u64>>(pages: I, rate: f64) -> Self {
        let mut s = Shards::new(rate);
        for p in pages {
            s.access(p);
        }
        s.finish()
    }

    /// Estimated miss ratio with `size` frames. Misses are divided by the expected number of
    /// sampled references (`rate` × all references) rather than the number actually sampled,
    /// SHARDS's adjustment for a sample that caught more or fewer hot pages than its share.
    pub fn miss_ratio(&self, size: usize) -> f64 {
        let expected = self.rate * self.total as f64;
        if expected <= 0.0 {
            return 0.0;
        }
        let misses = self
            .sampled
            .misses((size as f64 * self.rate).floor() as usize);
        (misses as f64 / expected).min(1.0)
    }

    /// The largest absolute miss-ratio error against `exact` over sizes from `1 / rate` (the
    /// sample's resolution: smaller caches hold less than one sampled page) to `max_size`.
    /// Both curves are flat beyond the footprint (the sample's, scaled), so sizes past it are
    /// not visited one by one.
    pub fn max_error(&self, exact: &StackHistogram, max_size: usize) -> f64 {
        let first = (1.0 / self.rate).ceil() as usize;
        let flat = exact
            .distinct()
            .max((self.sampled.distinct() as f64 / self.rate).ceil() as u64)
            .saturating_add(1);
        let last = max_size.min(usize::try_from(flat).unwrap_or(usize::MAX));
        (first.max(1)..=last)
            .map(|c| (self.miss_ratio(c) - exact.miss_ratio(c)).abs())
            .fold(0.0, f64::max)
    }
}
