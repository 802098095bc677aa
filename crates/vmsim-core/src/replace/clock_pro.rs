//! CLOCK-Pro: LIRS's reuse-distance test done with clock hands (Jiang, Chen and Zhang,
//! "CLOCK-Pro: An Effective Improvement of the CLOCK Replacement", USENIX ATC 2005). Resident
//! pages are hot or cold; a cold page starts a test period when it is loaded (or when its
//! reference bit is found set), and one referenced again within it becomes hot. Evicted cold
//! pages still in their test period stay on the clock as non-resident entries (at most as many
//! as frames). Three hands move round one circular list: HAND_cold evicts cold pages,
//! HAND_hot turns the oldest unreferenced hot page cold and ends the test periods it passes,
//! HAND_test ends test periods to bound the non-resident entries. The cold target `m_c` grows
//! by one on each re-reference within a test period and shrinks by one on each test period
//! that ends unused. Simplified: HAND_hot runs only while there are more hot pages than
//! `m - m_c`; `m_c` starts at 1% of memory (at least 1) and stays within 1..=m; a faulted page
//! starts with its reference bit clear.
//!
//! The circle is one `dlist::Lists` list read from its back to its front and round again; HAND_hot
//! is always at the back, so moving it past a page is moving that page to the front, and the
//! front is the paper's list head, where pages are (re)inserted. HAND_cold and HAND_test are
//! node indices; a hand on a node that moves or leaves steps to the next node first.

use super::dlist::{Lists, NIL};
use super::{check_frames, Evicted, Outcome, Page, Policy, ReplaceError};

/// `count` flags of a node.
const HOT: u8 = 1;
const TEST: u8 = 2;
const RESIDENT: u8 = 4;

/// The policy; [`Policy::resident`] lists the resident pages from HAND_hot round the clock.
#[derive(Debug, Clone)]
pub struct ClockPro {
    cap: usize,
    cold_target: usize,
    hot: usize,
    cold: usize,
    nonresident: usize,
    hand_cold: u32,
    hand_test: u32,
    clock: Lists<1>,
}

impl ClockPro {
    /// An empty cache of `frames` frames.
    pub fn new(frames: usize) -> Result<Self, ReplaceError> {
        check_frames(frames)?;
        Ok(ClockPro {
            cap: frames,
            cold_target: (frames / 100).max(1),
            hot: 0,
            cold: 0,
            nonresident: 0,
            hand_cold: NIL,
            hand_test: NIL,
            clock: Lists::with_capacity(2 * frames + 1),
        })
    }

    /// The current target number of resident cold pages, `m_c`.
    pub fn cold_target(&self) -> usize {
        self.cold_target
    }

    /// Resident hot pages now.
    pub fn hot_len(&self) -> usize {
        self.hot
    }

    /// Non-resident cold pages in their test period (at most the number of frames).
    pub fn nonresident(&self) -> usize {
        self.nonresident
    }

    /// The node after `i` going round the clock.
    #[inline]
    fn next(&self, i: u32) -> u32 {
        self.clock
            .newer(i)
            .or(self.clock.back(0))
            .expect("`i` is on the clock, so it is not empty")
    }

    /// Where a hand at `h` starts: its node, or the back if it has none.
    fn start(&self, h: u32) -> u32 {
        if h == NIL {
            self.clock
                .back(0)
                .expect("a hand only runs on a non-empty clock")
        } else {
            h
        }
    }

    /// Steps HAND_cold and HAND_test off node `i` before it moves or leaves.
    fn detach(&mut self, i: u32) {
        let n = self.next(i);
        let n = if n == i { NIL } else { n };
        if self.hand_cold == i {
            self.hand_cold = n;
        }
        if self.hand_test == i {
            self.hand_test = n;
        }
    }

    /// Moves node `i` to the list head (just behind HAND_hot).
    fn move_to_head(&mut self, i: u32) {
        self.detach(i);
        self.clock.move_front(i, 0);
    }

    fn shrink_cold_target(&mut self) {
        self.cold_target = self.cold_target.saturating_sub(1).max(1);
    }

    fn grow_cold_target(&mut self) {
        self.cold_target = (self.cold_target + 1).min(self.cap);
    }

    /// Ends the test period of cold node `i`, which has been passed by a hand; a non-resident
    /// one leaves the clock. Returns whether it left.
    fn end_test(&mut self, i: u32) -> bool {
        let n = self.clock.node_mut(i);
        if n.count & TEST != 0 {
            n.count &= !TEST;
            if !n.referenced {
                self.shrink_cold_target();
            }
        }
        if self.clock.node(i).count & RESIDENT == 0 {
            self.detach(i);
            self.clock.remove(i);
            self.nonresident -= 1;
            true
        } else {
            false
        }
    }

    /// HAND_hot: turns the first unreferenced hot page from the back cold, clearing the bits of
    /// referenced ones and ending the test periods of cold pages on the way, then goes on to
    /// the next hot page. Needs a hot page.
    fn hand_hot(&mut self) {
        let mut demoted = false;
        while !demoted || self.hot > 0 {
            let b = self
                .clock
                .back(0)
                .expect("there is a hot page, so the clock is not empty");
            let n = self.clock.node_mut(b);
            if n.count & HOT != 0 {
                if demoted {
                    // Stops at the next hot page.
                    return;
                }
                if n.referenced {
                    n.referenced = false;
                } else {
                    n.count &= !HOT;
                    self.hot -= 1;
                    self.cold += 1;
                    demoted = true;
                }
            } else if self.end_test(b) {
                continue;
            }
            self.clock.move_front(b, 0);
        }
    }

    /// HAND_test: ends test periods from its position on until a non-resident page leaves.
    /// Needs a non-resident page.
    fn hand_test(&mut self) {
        let mut i = self.start(self.hand_test);
        loop {
            let n = self.clock.node(i);
            if n.count & (HOT | TEST) == TEST {
                if n.count & RESIDENT == 0 {
                    self.hand_test = i;
                    self.end_test(i);
                    return;
                }
                self.end_test(i);
            }
            i = self.next(i);
        }
    }

    /// HAND_cold: runs until it evicts an unreferenced cold page. A referenced one in its test
    /// period becomes hot (and HAND_hot runs if there are too many); one out of it starts a new
    /// test period; both go to the list head with the bit cleared. Needs memory full.
    fn hand_cold(&mut self) -> Evicted {
        loop {
            if self.cold == 0 {
                self.hand_hot();
            }
            let mut i = self.start(self.hand_cold);
            while self.clock.node(i).count & (HOT | RESIDENT) != RESIDENT {
                i = self.next(i);
            }
            self.hand_cold = i;
            let n = self.clock.node_mut(i);
            if !n.referenced {
                let e = n.evicted();
                self.cold -= 1;
                if n.count & TEST != 0 {
                    n.count &= !RESIDENT;
                    n.dirty = false;
                    self.nonresident += 1;
                    self.hand_cold = self.next(i);
                } else {
                    self.detach(i);
                    self.clock.remove(i);
                }
                return e;
            }
            n.referenced = false;
            if n.count & TEST != 0 {
                n.count = HOT | RESIDENT;
                self.cold -= 1;
                self.hot += 1;
                self.grow_cold_target();
                self.move_to_head(i);
                self.balance_hot();
            } else {
                n.count |= TEST;
                self.move_to_head(i);
            }
        }
    }

    /// Runs HAND_hot until there are at most `m - m_c` hot pages.
    fn balance_hot(&mut self) {
        while self.hot > self.cap - self.cold_target {
            self.hand_hot();
        }
    }
}

/// A kernel reclaims with it through the provided methods (spare pages for free frames).
impl super::Reclaim for ClockPro {}

impl Policy for ClockPro {
    fn capacity(&self) -> usize {
        self.cap
    }
    fn len(&self) -> usize {
        self.hot + self.cold
    }
    fn contains(&self, page: Page) -> bool {
        self.clock
            .find(page)
            .is_some_and(|i| self.clock.node(i).count & RESIDENT != 0)
    }
    #[inline]
    fn access(&mut self, page: Page, write: bool) -> Outcome {
        if let Some(i) = self.clock.find(page) {
            let n = self.clock.node_mut(i);
            if n.count & RESIDENT != 0 {
                n.referenced = true;
                n.dirty |= write;
                return Outcome::Hit;
            }
        }
        let evicted = (self.len() >= self.cap).then(|| self.hand_cold());
        // HAND_hot may have ended this page's test period while evicting: look again.
        match self.clock.find(page) {
            Some(i) => {
                // Re-referenced within its test period: hot.
                let n = self.clock.node_mut(i);
                n.count = HOT | RESIDENT;
                n.referenced = false;
                n.dirty = write;
                self.nonresident -= 1;
                self.hot += 1;
                self.grow_cold_target();
                self.move_to_head(i);
                self.balance_hot();
            }
            None => {
                let i = self.clock.push_front(0, page, write, false);
                self.clock.node_mut(i).count = RESIDENT | TEST;
                self.cold += 1;
            }
        }
        while self.nonresident > self.cap {
            self.hand_test();
        }
        Outcome::Miss { evicted }
    }
    fn remove(&mut self, page: Page) -> Option<Evicted> {
        let i = self.clock.find(page)?;
        let count = self.clock.node(i).count;
        if count & RESIDENT == 0 {
            return None;
        }
        if count & HOT != 0 {
            self.hot -= 1;
        } else {
            self.cold -= 1;
        }
        self.detach(i);
        Some(self.clock.remove(i).evicted())
    }
    fn resident(&self, out: &mut Vec<Page>) {
        let mut i = self.clock.back(0);
        while let Some(at) = i {
            let n = self.clock.node(at);
            if n.count & RESIDENT != 0 {
                out.push(n.page);
            }
            i = self.clock.newer(at);
        }
    }
}
