//! FIFO: evict the page that has been resident longest, whatever its use (the policy that shows
//! Belady's anomaly: Belady, Nelson & Shedler, CACM 1969).

use super::nodes::Nodes;
use super::{Evicted, Outcome, Policy};

/// First in, first out.
#[derive(Debug, Clone)]
pub struct Fifo {
    cap: usize,
    nodes: Nodes,
}

impl Fifo {
    /// A FIFO over `frames` frames (at least 1).
    pub fn new(frames: usize) -> Self {
        Fifo {
            cap: frames.max(1),
            nodes: Nodes::with_capacity(frames.max(1)),
        }
    }
}

impl Policy for Fifo {
    fn name(&self) -> &'static str {
        "fifo"
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
            return Outcome::Hit;
        }
        let evicted = self
            .nodes
            .insert(page, write, self.cap)
            .map(|(page, dirty)| Evicted { page, dirty });
        Outcome::Miss { evicted }
    }
}
