//! LIRS, Low Inter-reference Recency Set: pages whose last two references were close together
//! (LIR) hold almost all frames; the rest (resident HIR pages, about 1% of memory) sit in a FIFO
//! queue Q and supply the victims. A recency stack S holds the LIR pages and the HIR pages
//! referenced more recently than the oldest LIR page, resident or not; a HIR page referenced
//! again while in S has a smaller inter-reference recency than that LIR page and swaps status
//! with it (Jiang and Zhang, "LIRS: An Efficient Low Inter-reference Recency Set Replacement
//! Policy to Improve Buffer Cache Performance", SIGMETRICS 2002). Simplified: S is bounded by
//! forgetting the oldest non-resident HIR entry (by eviction time, not by position in S) once
//! there are more than twice as many as frames.
//!
//! S and Q are two `dlist::Lists`: a resident HIR page is on both, as in the paper. The stack's
//! nodes mark LIR pages in `count` and hold their dirty bits; Q's nodes hold the dirty bits of
//! resident HIR pages, and its second list keeps the non-resident HIR pages of S in eviction
//! order so the bound costs O(1). Pruning keeps an LIR page at the bottom of S.

use super::dlist::Lists;
use super::{check_frames, Evicted, Outcome, Page, Policy, ReplaceError};

/// `count` of an LIR page's stack node (HIR nodes have 0).
const LIR: u8 = 1;
/// Q: resident HIR pages, newest at the front; the back is the next victim.
const QUEUE: usize = 0;
/// Non-resident HIR pages still in S, most recently evicted at the front.
const GHOST: usize = 1;

/// The policy; [`Policy::resident`] lists Q in eviction order, then the LIR pages from the
/// bottom of S.
#[derive(Debug, Clone)]
pub struct Lirs {
    cap: usize,
    /// LIR frames: capacity less the HIR share (1%, at least 1).
    llirs: usize,
    ghost_limit: usize,
    lir: usize,
    s: Lists<1>,
    q: Lists<2>,
}

impl Lirs {
    /// An empty cache of `frames` frames, 1% of them (at least 1) for resident HIR pages.
    pub fn new(frames: usize) -> Result<Self, ReplaceError> {
        check_frames(frames)?;
        let lhirs = (frames / 100).max(1);
        let ghost_limit = 2 * frames;
        Ok(Lirs {
            cap: frames,
            // With one frame there are no LIR frames: every page is HIR and S stays empty.
            llirs: frames - lhirs,
            ghost_limit,
            lir: 0,
            s: Lists::with_capacity(frames + ghost_limit + 1),
            q: Lists::with_capacity(frames + ghost_limit + 1),
        })
    }

    /// Non-resident HIR pages remembered in S (at most twice the frames).
    pub fn nonresident(&self) -> usize {
        self.q.len(GHOST)
    }

    /// LIR pages now.
    pub fn lir_len(&self) -> usize {
        self.lir
    }

    /// Removes HIR pages from the bottom of S until an LIR page is there; non-resident ones
    /// are forgotten, resident ones stay in Q.
    fn prune(&mut self) {
        while let Some(b) = self.s.back(0) {
            if self.s.node(b).count == LIR {
                break;
            }
            let page = self.s.remove(b).page;
            if let Some(j) = self.q.find(page) {
                if self.q.node(j).list as usize == GHOST {
                    self.q.remove(j);
                }
            }
        }
    }

    /// Turns the LIR page at the bottom of S into a resident HIR page at the end of Q.
    fn demote_bottom(&mut self) {
        self.prune();
        let Some(b) = self.s.back(0) else {
            return;
        };
        let n = self.s.remove(b);
        self.lir -= 1;
        self.q.push_front(QUEUE, n.page, n.dirty, false);
        self.prune();
    }

    /// Makes the HIR page with stack node `i` LIR, at the top of S; the LIR set gives up its
    /// bottom page if it is now over its share.
    fn promote(&mut self, i: u32, dirty: bool) {
        let n = self.s.node_mut(i);
        n.count = LIR;
        n.dirty = dirty;
        self.s.move_front(i, 0);
        self.lir += 1;
        while self.lir > self.llirs {
            self.demote_bottom();
        }
    }

    /// Evicts the resident HIR page at the front of Q (after `remove` emptied Q, the bottom
    /// LIR page is demoted first); it stays in S as a non-resident page if it is there.
    fn evict(&mut self) -> Evicted {
        if self.q.len(QUEUE) == 0 {
            self.demote_bottom();
        }
        let j = self
            .q
            .back(QUEUE)
            .expect("memory is full: Q is non-empty or an LIR page was just demoted into it");
        let page = self.q.node(j).page;
        if self.s.find(page).is_some() {
            self.q.move_front(j, GHOST);
            let n = self.q.node_mut(j);
            let e = n.evicted();
            n.dirty = false;
            e
        } else {
            self.q.remove(j).evicted()
        }
    }

    /// Forgets the oldest non-resident entries of S beyond the bound.
    fn trim_ghosts(&mut self) {
        while self.q.len(GHOST) > self.ghost_limit {
            let Some(g) = self.q.back(GHOST) else {
                break;
            };
            let page = self.q.remove(g).page;
            if let Some(i) = self.s.find(page) {
                self.s.remove(i);
            }
        }
    }
}

/// A kernel reclaims with it through the provided methods (spare pages for free frames).
impl super::Reclaim for Lirs {}

impl Policy for Lirs {
    fn capacity(&self) -> usize {
        self.cap
    }
    fn len(&self) -> usize {
        self.lir + self.q.len(QUEUE)
    }
    fn contains(&self, page: Page) -> bool {
        self.s
            .find(page)
            .is_some_and(|i| self.s.node(i).count == LIR)
            || self
                .q
                .find(page)
                .is_some_and(|j| self.q.node(j).list as usize == QUEUE)
    }
    #[inline]
    fn access(&mut self, page: Page, write: bool) -> Outcome {
        let si = self.s.find(page);
        if let Some(i) = si {
            if self.s.node(i).count == LIR {
                self.s.node_mut(i).dirty |= write;
                self.s.move_front(i, 0);
                self.prune();
                return Outcome::Hit;
            }
        }
        if let Some(j) = self.q.find(page) {
            if self.q.node(j).list as usize == QUEUE {
                // A resident HIR page.
                let dirty = self.q.node(j).dirty | write;
                match si {
                    Some(i) => {
                        self.q.remove(j);
                        self.promote(i, dirty);
                    }
                    None => {
                        self.q.node_mut(j).dirty = dirty;
                        self.q.move_front(j, QUEUE);
                        self.s.push_front(0, page, false, true);
                    }
                }
                self.prune();
                return Outcome::Hit;
            }
        }
        let evicted = (self.len() >= self.cap).then(|| self.evict());
        // The eviction may have pruned this page's non-resident entry: look again.
        match (self.s.find(page), self.q.find(page)) {
            (Some(i), Some(j)) => {
                debug_assert_eq!(self.q.node(j).list as usize, GHOST);
                self.q.remove(j);
                self.promote(i, write);
            }
            _ if self.lir < self.llirs => {
                let i = self.s.push_front(0, page, write, true);
                self.s.node_mut(i).count = LIR;
                self.lir += 1;
            }
            _ => {
                self.s.push_front(0, page, false, true);
                self.q.push_front(QUEUE, page, write, true);
            }
        }
        self.prune();
        self.trim_ghosts();
        Outcome::Miss { evicted }
    }
    fn remove(&mut self, page: Page) -> Option<Evicted> {
        if let Some(i) = self.s.find(page) {
            if self.s.node(i).count == LIR {
                let n = self.s.remove(i);
                self.lir -= 1;
                self.prune();
                return Some(n.evicted());
            }
        }
        let j = self.q.find(page)?;
        if self.q.node(j).list as usize != QUEUE {
            return None;
        }
        let n = self.q.remove(j);
        if let Some(i) = self.s.find(page) {
            self.s.remove(i);
        }
        self.prune();
        Some(n.evicted())
    }
    fn resident(&self, out: &mut Vec<Page>) {
        self.q.pages_oldest_first(QUEUE, out);
        let mut i = self.s.back(0);
        while let Some(at) = i {
            let n = self.s.node(at);
            if n.count == LIR {
                out.push(n.page);
            }
            i = self.s.newer(at);
        }
    }
}
