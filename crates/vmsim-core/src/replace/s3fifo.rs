//! S3-FIFO: a small FIFO S (10% of memory) filters one-hit wonders, a main FIFO M with lazy
//! promotion holds the rest, and a ghost FIFO G remembers pages evicted from S; a 2-bit
//! frequency per page (Yang et al., "FIFO Queues are All You Need for Cache Eviction",
//! SOSP 2023). A page leaving S moves to M if it was referenced again while in S.

use super::dlist::Lists;
use super::{check_frames, Evicted, Outcome, Page, Policy, ReplaceError};

const S: usize = 0;
const M: usize = 1;
const G: usize = 2;

/// The policy; [`Policy::resident`] lists S then M, each oldest first.
#[derive(Debug, Clone)]
pub struct S3Fifo {
    cap: usize,
    small: usize,
    ghost: usize,
    lists: Lists<3>,
}

impl S3Fifo {
    /// An empty cache of `frames` frames (S = 10%, at least 1; G as large as M).
    pub fn new(frames: usize) -> Result<Self, ReplaceError> {
        check_frames(frames)?;
        let small = (frames / 10).max(1);
        let ghost = (frames - small.min(frames)).max(1);
        Ok(S3Fifo {
            cap: frames,
            small,
            ghost,
            lists: Lists::with_capacity(frames + ghost + 1),
        })
    }

    fn evict(&mut self) -> Option<Evicted> {
        if self.lists.len(S) >= self.small || self.lists.len(M) == 0 {
            while let Some(t) = self.lists.back(S) {
                if self.lists.node(t).count > 0 {
                    self.lists.node_mut(t).count = 0;
                    self.lists.move_front(t, M);
                } else {
                    self.lists.move_front(t, G);
                    let n = self.lists.node_mut(t);
                    let e = n.evicted();
                    n.dirty = false;
                    if self.lists.len(G) > self.ghost {
                        if let Some(g) = self.lists.back(G) {
                            self.lists.remove(g);
                        }
                    }
                    return Some(e);
                }
            }
        }
        while let Some(t) = self.lists.back(M) {
            let n = self.lists.node_mut(t);
            if n.count > 0 {
                n.count -= 1;
                self.lists.move_front(t, M);
            } else {
                let n = self.lists.remove(t);
                return Some(n.evicted());
            }
        }
        None
    }
}

/// A kernel reclaims with it through the provided methods (spare pages for free frames).
impl super::Reclaim for S3Fifo {}

impl Policy for S3Fifo {
    fn capacity(&self) -> usize {
        self.cap
    }
    fn len(&self) -> usize {
        self.lists.len(S) + self.lists.len(M)
    }
    fn contains(&self, page: Page) -> bool {
        self.lists
            .find(page)
            .is_some_and(|i| self.lists.node(i).list as usize != G)
    }
    #[inline]
    fn access(&mut self, page: Page, write: bool) -> Outcome {
        let found = self.lists.find(page);
        if let Some(i) = found {
            let n = self.lists.node_mut(i);
            if n.list as usize != G {
                n.count = (n.count + 1).min(3);
                n.dirty |= write;
                return Outcome::Hit;
            }
        }
        let evicted = if self.len() >= self.cap {
            self.evict()
        } else {
            None
        };
        match (found, self.lists.find(page)) {
            (Some(i), Some(j)) if i == j => {
                self.lists.move_front(i, M);
                let n = self.lists.node_mut(i);
                n.dirty = write;
                n.count = 0;
            }
            _ => {
                self.lists.push_front(S, page, write, true);
            }
        }
        Outcome::Miss { evicted }
    }
    fn remove(&mut self, page: Page) -> Option<Evicted> {
        let i = self.lists.find(page)?;
        let n = self.lists.remove(i);
        (n.list as usize != G).then_some(n.evicted())
    }
    fn resident(&self, out: &mut Vec<Page>) {
        self.lists.pages_oldest_first(S, out);
        self.lists.pages_oldest_first(M, out);
    }
}
