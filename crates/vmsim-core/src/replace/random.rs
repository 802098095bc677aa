//! Random replacement: evict a uniformly chosen resident page (Belady, IBM Systems Journal
//! 1966). The generator is a type parameter so callers can supply their own (any `RngCore`).

use super::{check_frames, Evicted, Outcome, Page, Policy, ReplaceError};
use rand::{Rng, RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use rustc_hash::FxHashMap;

/// The policy; [`Policy::resident`] lists pages in slot order (insertion order until the first
/// eviction, after which the victim's slot is refilled by the last page).
#[derive(Debug, Clone)]
pub struct Random<R> {
    cap: usize,
    pages: Vec<(Page, bool)>,
    map: FxHashMap<Page, u32>,
    rng: R,
}

impl Random<Xoshiro256PlusPlus> {
    /// An empty cache of `frames` frames with the default generator seeded by `seed`.
    pub fn seeded(frames: usize, seed: u64) -> Result<Self, ReplaceError> {
        Random::with_rng(frames, Xoshiro256PlusPlus::seed_from_u64(seed))
    }
}

impl<R: RngCore> Random<R> {
    /// An empty cache of `frames` frames drawing victims from `rng`.
    pub fn with_rng(frames: usize, rng: R) -> Result<Self, ReplaceError> {
        check_frames(frames)?;
        let mut map = FxHashMap::default();
        map.reserve(super::reserve(frames));
        Ok(Random {
            cap: frames,
            pages: Vec::with_capacity(super::reserve(frames)),
            map,
            rng,
        })
    }

    fn take(&mut self, i: usize) -> Evicted {
        let (page, dirty) = self.pages.swap_remove(i);
        self.map.remove(&page);
        if let Some(&(moved, _)) = self.pages.get(i) {
            self.map.insert(moved, i as u32);
        }
        Evicted { page, dirty }
    }
}

/// A kernel reclaims with it through the provided methods (spare pages for free frames).
impl<R: RngCore> super::Reclaim for Random<R> {}

impl<R: RngCore> Policy for Random<R> {
    fn capacity(&self) -> usize {
        self.cap
    }
    fn len(&self) -> usize {
        self.pages.len()
    }
    fn contains(&self, page: Page) -> bool {
        self.map.contains_key(&page)
    }
    #[inline]
    fn access(&mut self, page: Page, write: bool) -> Outcome {
        if let Some(&i) = self.map.get(&page) {
            self.pages[i as usize].1 |= write;
            return Outcome::Hit;
        }
        let evicted = if self.pages.len() >= self.cap {
            let i = self.rng.gen_range(0..self.pages.len());
            Some(self.take(i))
        } else {
            None
        };
        self.map.insert(page, self.pages.len() as u32);
        self.pages.push((page, write));
        Outcome::Miss { evicted }
    }
    fn remove(&mut self, page: Page) -> Option<Evicted> {
        let i = *self.map.get(&page)?;
        Some(self.take(i as usize))
    }
    fn resident(&self, out: &mut Vec<Page>) {
        out.extend(self.pages.iter().map(|p| p.0));
    }
}
