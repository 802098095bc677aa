//! The kernel's side of a replacement policy: what a kernel's page reclaim needs from any
//! policy of this module, and [`Reclaimer`], which the Linux-like kernel holds.
//!
//! A kernel sees frames, not a stream of references. Frames become resident ([`Reclaim::admit`])
//! and are freed ([`Reclaim::forget`]); references reach the policy in one of two ways: through
//! the accessed (A) bits that the kernel tests and clears while the policy looks for a victim
//! (the `young` callback of [`Reclaim::victim`]), as a real kernel learns of them, or, for a
//! policy that asks for it ([`Reclaim::every_access`], exact LRU), through
//! [`Reclaim::touch`] on every access, a simulator's privilege kept for comparison.
//!
//! Every policy gets the trait's provided methods, which drive it through [`Policy`] alone with
//! spare pages standing for free frames ([`Spare`]). Policies whose kernel form is
//! classic override them: FIFO, LRU and MRU (`ordered.rs`) never read A bits, and Linux's
//! two lists (`linux_two_list.rs`) scan as `mm/vmscan.c` does.

use super::spare::{is_spare, Spare};
use super::{AnyPolicy, Page, Policy, PolicyKind, ReplaceError};
use serde::{Serialize, Serializer};
use std::fmt;
use std::str::FromStr;
use thiserror::Error;

/// What one victim search found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Victim {
    /// The frame evicted from the policy (`None`: no frame is resident).
    pub page: Option<Page>,
    /// Frames the search examined.
    pub scanned: u64,
}

/// A policy as a kernel's reclaim drives it. The caller guarantees that the policy was built
/// with at least as many frames as can ever be resident, and that a frame is admitted at most
/// once before it is forgotten or chosen as a victim.
pub trait Reclaim: Policy {
    /// Whether the policy holds at most [`Policy::capacity`] frames in its kernel form (true for
    /// the provided methods, which need it full to choose); a form that grows by itself says
    /// false.
    fn bounded(&self) -> bool {
        true
    }

    /// Whether the kernel must call [`Reclaim::touch`] on every access; otherwise references
    /// are known only from A bits.
    fn every_access(&self) -> bool {
        false
    }

    /// `page` became resident and evictable.
    fn admit(&mut self, page: Page, spare: &mut Spare) {
        spare.admit(self, page);
    }

    /// `page` is no longer evictable (freed, unmapped); whether it was resident.
    fn forget(&mut self, page: Page) -> bool {
        self.remove(page).is_some()
    }

    /// `page` was accessed (called only when [`Reclaim::every_access`]). Allocates nothing.
    #[inline]
    fn touch(&mut self, page: Page) {
        if self.contains(page) {
            let _ = self.access(page, false);
        }
    }

    /// Chooses and removes a victim. `young(page)` tests and clears the page's A bits in every
    /// page table that maps it.
    fn victim<Y: FnMut(Page) -> bool>(&mut self, spare: &mut Spare, young: Y) -> Victim {
        spare.victim(self, young)
    }
}

/// Choosing a reclaim policy failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReclaimError {
    /// The name is not a policy.
    #[error(transparent)]
    Unknown(#[from] ReplaceError),
    /// The policy needs the future (OPT): a kernel cannot run it.
    #[error("policy `{0}` is offline (it needs the future references), so a kernel cannot reclaim with it")]
    Offline(PolicyKind),
}

/// The policy a kernel reclaims with: any [`PolicyKind`] that runs online. Its name is the
/// policy's, except that Linux's lists are called `two-list` here (the kernel's name for them
/// since before they came from this module; `linux` is accepted too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReclaimPolicy(PolicyKind);

impl ReclaimPolicy {
    /// Linux's active and inactive lists, the kernel's default.
    pub const TWO_LIST: ReclaimPolicy = ReclaimPolicy(PolicyKind::LinuxTwoList);

    /// `kind`, unless it is offline.
    pub fn new(kind: PolicyKind) -> Result<Self, ReclaimError> {
        match kind {
            PolicyKind::Opt => Err(ReclaimError::Offline(kind)),
            k => Ok(ReclaimPolicy(k)),
        }
    }

    /// Every policy a kernel can reclaim with, in the table's order.
    pub fn all() -> impl Iterator<Item = ReclaimPolicy> {
        PolicyKind::ALL
            .iter()
            .filter_map(|&k| ReclaimPolicy::new(k).ok())
    }

    /// The policy.
    pub fn kind(self) -> PolicyKind {
        self.0
    }

    /// Command-line name.
    pub fn name(self) -> &'static str {
        match self.0 {
            PolicyKind::LinuxTwoList => "two-list",
            k => k.name(),
        }
    }
}

impl Default for ReclaimPolicy {
    fn default() -> Self {
        ReclaimPolicy::TWO_LIST
    }
}

impl fmt::Display for ReclaimPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ReclaimPolicy {
    type Err = ReclaimError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "two-list" {
            return Ok(ReclaimPolicy::TWO_LIST);
        }
        ReclaimPolicy::new(s.parse()?)
    }
}

impl Serialize for ReclaimPolicy {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// The frames a reclaimer's policy is first built for.
pub const FIRST_FRAMES: usize = 1 << 12;

/// The resident frames a kernel may evict, in its policy's order.
#[derive(Debug, Clone)]
pub struct Reclaimer {
    kind: ReclaimPolicy,
    /// Frames of the memory: the most that can ever be resident.
    frames: usize,
    policy: AnyPolicy,
    spare: Spare,
    every_access: bool,
    /// Frames examined while choosing victims.
    pub scanned: u64,
}

impl Reclaimer {
    /// An empty reclaimer for a memory of `frames` frames (at least 1). The policy is built
    /// for at most [`FIRST_FRAMES`] and grows as frames become resident, so a large memory
    /// costs nothing until it is used.
    pub fn new(kind: ReclaimPolicy, frames: usize) -> Result<Self, ReplaceError> {
        let policy = AnyPolicy::new(kind.kind(), frames.min(FIRST_FRAMES), &[], 0)?;
        Ok(Reclaimer {
            kind,
            frames,
            every_access: policy.every_access(),
            policy,
            spare: Spare::default(),
            scanned: 0,
        })
    }

    /// The policy.
    pub fn policy(&self) -> ReclaimPolicy {
        self.kind
    }

    /// Whether the policy wants to hear of every access ([`Reclaimer::accessed`]).
    #[inline]
    pub fn tracks_accesses(&self) -> bool {
        self.every_access
    }

    /// A frame became resident and evictable.
    pub fn insert(&mut self, pfn: u64) {
        let cap = self.policy.capacity();
        if self.policy.bounded() && self.len() >= cap && cap < self.frames {
            self.grow(cap.saturating_mul(2).min(self.frames));
        }
        self.policy.admit(pfn, &mut self.spare);
    }

    /// Rebuilds the policy with room for `frames` frames, admitting the resident ones in the
    /// old policy's eviction order (first victim first), so that order survives; the policy's
    /// other state (history, bits) starts afresh. Happens only while memory fills, a doubling
    /// at a time.
    #[cold]
    fn grow(&mut self, frames: usize) {
        let mut order = Vec::with_capacity(self.policy.len());
        self.policy.resident(&mut order);
        let Ok(mut bigger) = AnyPolicy::new(self.kind.kind(), frames, &[], 0) else {
            return;
        };
        let mut spare = Spare::default();
        for p in order.into_iter().filter(|&p| !is_spare(p)) {
            bigger.admit(p, &mut spare);
        }
        self.policy = bigger;
        self.spare = spare;
    }

    /// A frame was accessed (heard only when [`Reclaimer::tracks_accesses`]).
    #[inline]
    pub fn accessed(&mut self, pfn: u64) {
        self.policy.touch(pfn);
    }

    /// A frame is no longer evictable (freed, unmapped).
    pub fn remove(&mut self, pfn: u64) {
        self.policy.forget(pfn);
    }

    /// Resident evictable frames.
    pub fn len(&self) -> usize {
        self.policy.len() - self.spare.live()
    }

    /// Whether none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Chooses and removes a victim. `young(pfn)` tests and clears the frame's A bits in every
    /// page table that maps it.
    pub fn victim(&mut self, young: impl FnMut(u64) -> bool) -> Option<u64> {
        let v = self.policy.victim(&mut self.spare, young);
        self.scanned += v.scanned;
        v.page
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn reclaimer(name: &str) -> Reclaimer {
        Reclaimer::new(name.parse().expect("a policy"), 16).expect("frames")
    }

    #[test]
    fn fifo_and_lru_ignore_accessed_bits() {
        let (mut f, mut l) = (reclaimer("fifo"), reclaimer("lru"));
        for p in 1..=3 {
            f.insert(p);
            l.insert(p);
        }
        assert!(!f.tracks_accesses() && l.tracks_accesses());
        l.accessed(1);
        assert_eq!(f.victim(|_| true), Some(1));
        assert_eq!(l.victim(|_| true), Some(2));
    }

    #[test]
    fn two_list_promotes_referenced_pages() {
        let mut t = reclaimer("two-list");
        for p in 1..=4 {
            t.insert(p);
        }
        // Pages 1 and 2 are referenced: promoted; 3 goes.
        let mut refd = HashSet::from([1u64, 2]);
        assert_eq!(t.victim(|p| refd.remove(&p)), Some(3));
        assert_eq!(t.len(), 3);
        t.remove(1);
        assert_eq!(t.len(), 2);
        assert_eq!(t.policy().name(), "two-list");
    }

    #[test]
    fn every_online_policy_evicts_each_frame_once() {
        for kind in ReclaimPolicy::all() {
            // Built for 2 frames at first: it grows twice on the way.
            let mut r = Reclaimer::new(kind, 8).expect("frames");
            r.policy = AnyPolicy::new(kind.kind(), 2, &[], 0).expect("frames");
            for p in 0..6 {
                r.insert(p);
            }
            r.remove(2);
            let mut refd = HashSet::from([0u64, 4]);
            let mut out = Vec::new();
            while let Some(v) = r.victim(|p| refd.remove(&p)) {
                out.push(v);
            }
            out.sort_unstable();
            assert_eq!(out, [0, 1, 3, 4, 5], "{kind}");
            assert!(r.is_empty(), "{kind}");
        }
    }

    #[test]
    fn opt_is_refused() {
        assert_eq!(
            "opt".parse::<ReclaimPolicy>(),
            Err(ReclaimError::Offline(PolicyKind::Opt))
        );
        assert!(matches!(
            "nope".parse::<ReclaimPolicy>(),
            Err(ReclaimError::Unknown(_))
        ));
        assert_eq!("linux".parse(), Ok(ReclaimPolicy::TWO_LIST));
    }
}
