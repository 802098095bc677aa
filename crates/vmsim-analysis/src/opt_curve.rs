//! OPT's misses at many cache sizes in one pass: Mattson's priority stack (priority = time of
//! next use; Mattson, Gecsei, Slutz and Traiger, IBM Systems Journal 1970) cut into bands at
//! the sizes asked for.
//!
//! The stack's first `c` entries are what OPT holds with `c` frames, so only the band a page
//! sits in decides which sizes hit. On a reference the page goes on top, and every band above
//! its old place passes down the entry it no longer keeps: the one used last, among its entries
//! and the one it received (that is OPT's victim at the band's lower size). A band is an ordered
//! set by next use, so a reference costs O(log n) per band boundary it crosses, whatever the
//! stack distance; the full stack walk cost O(distance) per reference.

use rustc_hash::FxHashMap;
use std::collections::BTreeSet;
use vmsim_core::replace::opt::next_uses;

/// Where a page sits: a band index, or below the last boundary.
type Band = u32;

/// A stack entry: (time of next use, page); the largest is used last.
type Entry = (u64, u64);

/// Bands this narrow are a plain vector: a scan of a few entries beats a tree's allocation
/// and pointer chasing (the top bands take most references).
const SMALL: usize = 32;

/// One band's entries, ordered only as far as finding the largest needs.
#[derive(Debug, Clone)]
enum Entries {
    Small(Vec<Entry>),
    Large(BTreeSet<Entry>),
}

impl Entries {
    fn new(cap: usize) -> Self {
        if cap <= SMALL {
            Entries::Small(Vec::with_capacity(cap))
        } else {
            Entries::Large(BTreeSet::new())
        }
    }

    fn len(&self) -> usize {
        match self {
            Entries::Small(v) => v.len(),
            Entries::Large(s) => s.len(),
        }
    }

    fn insert(&mut self, e: Entry) {
        match self {
            Entries::Small(v) => v.push(e),
            Entries::Large(s) => {
                s.insert(e);
            }
        }
    }

    fn remove(&mut self, e: Entry) {
        match self {
            Entries::Small(v) => {
                if let Some(i) = v.iter().position(|&x| x == e) {
                    v.swap_remove(i);
                }
            }
            Entries::Large(s) => {
                s.remove(&e);
            }
        }
    }

    fn pop_max(&mut self) -> Option<Entry> {
        match self {
            Entries::Small(v) => {
                let (i, _) = v.iter().enumerate().max_by_key(|&(_, x)| *x)?;
                Some(v.swap_remove(i))
            }
            Entries::Large(s) => s.pop_last(),
        }
    }

    /// Puts `e` in place of the largest entry and returns that one, if it is larger than `e`.
    fn exchange(&mut self, e: Entry) -> Option<Entry> {
        match self {
            Entries::Small(v) => {
                let (i, &m) = v.iter().enumerate().max_by_key(|&(_, x)| *x)?;
                (m > e).then(|| std::mem::replace(&mut v[i], e))
            }
            Entries::Large(s) => {
                let m = s.last().copied().filter(|&m| m > e)?;
                s.remove(&m);
                s.insert(e);
                Some(m)
            }
        }
    }
}

/// OPT's misses with each of `sizes` frames over `pages` (in the order of `sizes`; a size of 0
/// misses every reference).
pub fn opt_misses(pages: &[u64], sizes: &[usize]) -> Vec<u64> {
    let mut bounds: Vec<usize> = sizes.iter().copied().filter(|&s| s > 0).collect();
    bounds.sort_unstable();
    bounds.dedup();
    let per_bound = band_misses(pages, &bounds);
    sizes
        .iter()
        .map(|&s| match bounds.binary_search(&s) {
            Ok(i) => per_bound[i],
            Err(_) => pages.len() as u64,
        })
        .collect()
}

/// Misses at each boundary of `bounds` (sorted, distinct, all at least 1).
fn band_misses(pages: &[u64], bounds: &[usize]) -> Vec<u64> {
    if bounds.is_empty() {
        return Vec::new();
    }
    let next = next_uses(pages);
    let below = bounds.len() as Band;
    // Band i holds the stack positions (bounds[i-1], bounds[i]], keyed by (next use, page).
    let cap = |i: usize| bounds[i] - if i == 0 { 0 } else { bounds[i - 1] };
    let mut bands: Vec<Entries> = (0..bounds.len()).map(|i| Entries::new(cap(i))).collect();
    let mut band_of: FxHashMap<u64, Band> = FxHashMap::default();
    let mut misses = vec![0u64; bounds.len()];
    for (t, &x) in pages.iter().enumerate() {
        let key = (next[t], x);
        let from = band_of.insert(x, 0);
        // The bands above the page's old one (all of them for a first reference) miss it.
        let above = from.unwrap_or(below) as usize;
        misses[..above].iter_mut().for_each(|m| *m += 1);
        if let Some(b) = from.filter(|&b| b < below) {
            // Its key until now was this reference's time.
            bands[b as usize].remove((t as u64, x));
        }
        if above == 0 {
            bands[0].insert(key);
            continue;
        }
        // The page goes on top whatever its priority; the top band's victim travels down.
        let mut carry = if bands[0].len() == cap(0) {
            bands[0].pop_max()
        } else {
            None
        };
        bands[0].insert(key);
        for (i, band) in bands.iter_mut().enumerate().take(above).skip(1) {
            let Some(c) = carry else { break };
            if band.len() < cap(i) {
                band.insert(c);
                carry = None;
            } else if let Some(m) = band.exchange(c) {
                carry = Some(m);
            } else {
                continue;
            }
            band_of.insert(c.1, i as Band);
        }
        if let Some(c) = carry {
            // The page's old band (or the rest of the stack) takes what came down.
            let b = from.unwrap_or(below);
            if b < below {
                bands[b as usize].insert(c);
            }
            band_of.insert(c.1, b);
        }
    }
    misses
}
