//! Denning's working set W(t, τ), the distinct pages referenced in the last τ references:
//! its average size for every τ in one pass, its size over time, and how often it exceeds a
//! memory size (thrashing) (Denning, "The Working Set Model for Program Behavior", CACM 1968;
//! Denning and Schwartz, "Properties of the Working-Set Model", CACM 1972).

use rustc_hash::FxHashMap;

/// The mean working-set size at chosen windows, fed one reference at a time. Memory is one
/// entry per distinct page and two counters per window, whatever the trace's length.
#[derive(Debug, Clone)]
pub struct WorkingSetCurve {
    /// References seen.
    accesses: u64,
    /// The windows asked for, sorted and distinct; they cut the gaps into buckets.
    bounds: Vec<u64>,
    /// Per bucket (gaps from the bound below to the next), references and the sum of gaps.
    count: Vec<u64>,
    sum: Vec<u64>,
    /// Each page's last reference.
    last: FxHashMap<u64, u64>,
}

impl WorkingSetCurve {
    /// An empty curve, exact at each of `taus`.
    pub fn new(taus: &[usize]) -> Self {
        let mut bounds: Vec<u64> = taus.iter().map(|&t| t as u64).filter(|&t| t > 0).collect();
        bounds.sort_unstable();
        bounds.dedup();
        let buckets = bounds.len() + 1;
        WorkingSetCurve {
            accesses: 0,
            bounds,
            count: vec![0; buckets],
            sum: vec![0; buckets],
            last: FxHashMap::default(),
        }
    }

    fn add_gap(&mut self, gap: u64) {
        let b = self.bounds.partition_point(|&x| x <= gap);
        self.count[b] += 1;
        self.sum[b] += gap;
    }

    /// One reference: the gap since its page's previous reference is that reference's.
    pub fn access(&mut self, page: u64) {
        let now = self.accesses;
        if let Some(prev) = self.last.insert(page, now) {
            self.add_gap(now - prev);
        }
        self.accesses += 1;
    }

    /// The mean of |W(t, τ)| over every time t of the trace (0 for an empty trace), for each of
    /// `taus` in order (each must be one the curve was made for; others give `None`): each
    /// reference keeps its page in the working set for min(τ, gap) times, its gap being the
    /// distance to its page's next reference or, if none, to the end of the trace.
    pub fn finish(mut self, taus: &[usize]) -> Vec<Option<f64>> {
        let end = self.accesses;
        let last = std::mem::take(&mut self.last);
        for (_, l) in last {
            self.add_gap(end - l);
        }
        taus.iter()
            .map(|&tau| {
                if self.accesses == 0 {
                    return Some(0.0);
                }
                let tau = tau as u64;
                let k = if tau == 0 {
                    0
                } else {
                    self.bounds.binary_search(&tau).ok()? + 1
                };
                // Gaps below τ count whole; the others count τ each.
                let whole: u64 = self.sum[..k].iter().sum();
                let capped: u64 = self.count[k..].iter().sum();
                Some((whole + tau * capped) as f64 / self.accesses as f64)
            })
            .collect()
    }

    /// The curve of `pages` at `taus`.
    pub fn build(pages: &[u64], taus: &[usize]) -> Vec<Option<f64>> {
        let mut c = WorkingSetCurve::new(taus);
        pages.iter().for_each(|&p| c.access(p));
        c.finish(taus)
    }
}

/// |W(t, τ)| as the trace goes: the pages in last-reference order, so the oldest leave from the
/// front as the window passes them. One entry per page in the window; O(1) per reference.
#[derive(Debug, Clone)]
pub struct WindowSize {
    tau: u64,
    now: u64,
    /// Page → its node.
    at: FxHashMap<u64, u32>,
    /// (page, last reference, previous node, next node), a list from `head` (oldest) to
    /// `tail`; freed nodes are reused.
    nodes: Vec<(u64, u64, u32, u32)>,
    spare: Vec<u32>,
    head: u32,
    tail: u32,
}

const END: u32 = u32::MAX;

impl WindowSize {
    /// An empty window of `tau` references.
    pub fn new(tau: usize) -> Self {
        WindowSize {
            tau: tau as u64,
            now: 0,
            at: FxHashMap::default(),
            nodes: Vec::new(),
            spare: Vec::new(),
            head: END,
            tail: END,
        }
    }

    fn unlink(&mut self, n: u32) {
        let (_, _, prev, next) = self.nodes[n as usize];
        match prev {
            END => self.head = next,
            p => self.nodes[p as usize].3 = next,
        }
        match next {
            END => self.tail = prev,
            x => self.nodes[x as usize].2 = prev,
        }
    }

    fn push_back(&mut self, n: u32) {
        self.nodes[n as usize].2 = self.tail;
        self.nodes[n as usize].3 = END;
        match self.tail {
            END => self.head = n,
            t => self.nodes[t as usize].3 = n,
        }
        self.tail = n;
    }

    /// One reference; returns |W(t, τ)| for the window ending at (and including) it.
    pub fn access(&mut self, page: u64) -> usize {
        let now = self.now;
        self.now += 1;
        if self.tau == 0 {
            return 0;
        }
        match self.at.get(&page) {
            Some(&n) => {
                self.unlink(n);
                self.nodes[n as usize].1 = now;
                self.push_back(n);
            }
            None => {
                let n = match self.spare.pop() {
                    Some(n) => {
                        self.nodes[n as usize] = (page, now, END, END);
                        n
                    }
                    None => {
                        self.nodes.push((page, now, END, END));
                        (self.nodes.len() - 1) as u32
                    }
                };
                self.at.insert(page, n);
                self.push_back(n);
            }
        }
        // Pages last referenced τ or more references ago leave.
        while self.head != END && self.nodes[self.head as usize].1 + self.tau <= now {
            let h = self.head;
            self.unlink(h);
            self.at.remove(&self.nodes[h as usize].0);
            self.spare.push(h);
        }
        self.at.len()
    }
}

/// |W(t, τ)| for every time t (window ending at and including reference t).
pub fn size_over_time(pages: &[u64], tau: usize) -> Vec<usize> {
    let mut w = WindowSize::new(tau);
    pages.iter().map(|&p| w.access(p)).collect()
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
