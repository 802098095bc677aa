//! Free frames as pages nobody references again: how a kernel asks any [`Policy`] for a victim.
//!
//! A policy evicts only on a miss with memory full, and its capacity is fixed. A kernel wants a
//! victim while frames are still free (below a watermark). So the frames the kernel has not
//! given out are held in the policy by spare pages: fresh keys with the top bit set, which no
//! frame number reaches and no reference ever repeats. Before a victim is chosen the policy is
//! topped up with spares until full, then one more spare is referenced: the page that miss
//! evicts is the policy's own choice. A spare it evicts stood for a free frame and is simply
//! replaced; a frame that becomes resident takes a spare's place. The policies' own code (and
//! its invariant that eviction happens only when full) is used unchanged.

use super::{Outcome, Page, Policy, Victim};

/// The top bit marks a spare; frame numbers stay far below it.
const SPARE: Page = 1 << 63;

/// The spare pages a policy holds, as a stack of keys (some may have been evicted since: they
/// are dropped when popped).
#[derive(Debug, Clone, Default)]
pub struct Spare {
    keys: Vec<Page>,
    /// Spares resident in the policy now.
    live: usize,
    next: u64,
    /// The policy's resident pages in eviction order, for the fallback in [`Spare::victim`].
    order: Vec<Page>,
}

/// Whether `page` is a spare.
pub fn is_spare(page: Page) -> bool {
    page & SPARE != 0
}

impl Spare {
    /// Spares resident in the policy.
    pub fn live(&self) -> usize {
        self.live
    }

    /// References a fresh spare in `p`; returns the page that made room, if memory was full.
    fn reference_fresh<P: Policy + ?Sized>(&mut self, p: &mut P) -> Option<Page> {
        let k = SPARE | self.next;
        self.next += 1;
        self.keys.push(k);
        self.live += 1;
        let Outcome::Miss { evicted } = p.access(k, false) else {
            unreachable!("a fresh spare is never resident")
        };
        let e = evicted?.page;
        if is_spare(e) {
            self.live -= 1;
        }
        Some(e)
    }

    /// Removes one spare from `p` to make room for a frame.
    fn take<P: Policy + ?Sized>(&mut self, p: &mut P) {
        while let Some(k) = self.keys.pop() {
            if p.remove(k).is_some() {
                self.live -= 1;
                return;
            }
        }
    }

    /// `page` became resident in `p`: it takes a spare's place when `p` is full.
    pub fn admit<P: Policy + ?Sized>(&mut self, p: &mut P, page: Page) {
        if p.len() >= p.capacity() {
            self.take(p);
        }
        let o = p.access(page, false);
        debug_assert!(
            matches!(o, Outcome::Hit | Outcome::Miss { evicted: None }),
            "admitting a frame evicted another: the policy was built smaller than memory"
        );
        if self.keys.len() > 2 * p.capacity() + 64 {
            self.keys.retain(|&k| p.contains(k));
        }
    }

    /// Chooses and removes a victim among the frames resident in `p`. A candidate for which
    /// `young` (test and clear the page's accessed bits) says yes was referenced since it was
    /// last looked at: it is given back to `p` as a new reference and the choice goes on, up to
    /// twice round the resident frames.
    pub fn victim<P: Policy + ?Sized>(
        &mut self,
        p: &mut P,
        mut young: impl FnMut(Page) -> bool,
    ) -> Victim {
        let mut scanned = 0;
        let frames = p.len() - self.live;
        if frames == 0 {
            return Victim {
                page: None,
                scanned,
            };
        }
        let mut second_chances = 2 * frames + 1;
        // Spares evicted in a row: a policy that always evicts its newest page would otherwise
        // trade one spare for the next for ever.
        let mut spares_in_a_row = 0;
        while p.len() < p.capacity() {
            let _ = self.reference_fresh(p);
        }
        loop {
            let Some(e) = self.reference_fresh(p) else {
                unreachable!("the policy is full")
            };
            if is_spare(e) {
                spares_in_a_row += 1;
                if spares_in_a_row > p.capacity() {
                    let page = self.first_frame(p);
                    scanned += 1;
                    return Victim { page, scanned };
                }
                continue;
            }
            spares_in_a_row = 0;
            scanned += 1;
            if second_chances > 0 && young(e) {
                second_chances -= 1;
                self.take(p);
                let _ = p.access(e, false);
                continue;
            }
            return Victim {
                page: Some(e),
                scanned,
            };
        }
    }

    /// The first frame in `p`'s own eviction order ([`Policy::resident`]), removed.
    fn first_frame<P: Policy + ?Sized>(&mut self, p: &mut P) -> Option<Page> {
        self.order.clear();
        p.resident(&mut self.order);
        let page = self.order.iter().copied().find(|&q| !is_spare(q))?;
        p.remove(page);
        Some(page)
    }
}
