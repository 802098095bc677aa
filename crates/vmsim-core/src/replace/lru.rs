//! Exact LRU: evict the page unused for longest (Mattson et al., IBM Systems Journal 1970
//! showed it is a stack algorithm: no Belady anomaly). O(1) per reference.

use super::nodes::Nodes;
use super::{Evicted, Outcome, Policy};

/// Least recently used.
#[derive(Debug, Clone)]
pub struct Lru {
    cap: usize,
    nodes: Nodes,
}

impl Lru {
    /// An LRU over `frames` frames (at least 1).
    pub fn new(frames: usize) -> Self {
        Lru {
            cap: frames.max(1),
            nodes: Nodes::with_capacity(frames.max(1)),
        }
    }
}

impl Policy for Lru {
    fn name(&self) -> &'static str {
        "lru"
    }
    fn capacity(&self) -> usize {
        self.cap
    }
    fn len(&self) -> usize {
        self.nodes.len()
    }
    #[inline]
    fn access(&mut self, page: u64, write: bool) -> Outcome {
        if let Some(&s) = self.nodes.index.get(&page) {
            self.nodes.touch_dirty(s, write);
            self.nodes.to_front(s);
            return Outcome::Hit;
        }
        let evicted = self
            .nodes
            .insert(page, write, self.cap)
            .map(|(page, dirty)| Evicted { page, dirty });
        Outcome::Miss { evicted }
    }
}
