//! One conformance suite for every replacement policy (`PolicyKind::ALL`), plus oracles:
//! a slow Vec-based LRU, the list-ordered reference cache, Belady's anomaly, OPT's optimality
//! and the inclusion property of LRU and OPT.

use proptest::prelude::*;
use std::collections::{HashMap, HashSet};
use vmsim_core::replace::{
    simulate, simulate_kind, AnyPolicy, ListCache, ListPolicy, Outcome, Policy, PolicyKind,
    ReplaceError,
};

type Refs = Vec<(u64, bool)>;

fn pages(refs: &[(u64, bool)]) -> Vec<u64> {
    refs.iter().map(|r| r.0).collect()
}

/// Checks every step of `kind` on `refs` against a model of what is resident and dirty.
fn check_contract(kind: PolicyKind, frames: usize, refs: &[(u64, bool)]) -> Vec<Outcome> {
    let mut p = AnyPolicy::new(kind, frames, &pages(refs), 7).expect("frames >= 1");
    let mut resident: HashSet<u64> = HashSet::new();
    let mut dirty: HashMap<u64, bool> = HashMap::new();
    let mut outcomes = Vec::new();
    let mut buf = Vec::new();
    for &(page, write) in refs {
        let o = p.access(page, write);
        match o {
            Outcome::Hit => assert!(
                resident.contains(&page),
                "{kind}: hit on a page not resident"
            ),
            Outcome::Miss { evicted } => {
                assert!(!resident.contains(&page), "{kind}: miss on a resident page");
                if let Some(e) = evicted {
                    assert_ne!(e.page, page, "{kind}: evicted the page being loaded");
                    assert!(resident.remove(&e.page), "{kind}: victim was not resident");
                    assert_eq!(Some(e.dirty), dirty.remove(&e.page), "{kind}: dirty bit");
                } else {
                    assert!(
                        resident.len() < frames,
                        "{kind}: full cache evicted nothing"
                    );
                }
                resident.insert(page);
                dirty.insert(page, false);
            }
        }
        if write {
            dirty.insert(page, true);
        }
        assert!(p.len() <= frames, "{kind}: capacity exceeded");
        assert_eq!(p.len(), resident.len(), "{kind}: len");
        assert!(p.contains(page), "{kind}: referenced page not resident");
        buf.clear();
        p.resident(&mut buf);
        let listed: HashSet<u64> = buf.iter().copied().collect();
        assert_eq!(listed, resident, "{kind}: resident()");
        assert_eq!(
            buf.len(),
            resident.len(),
            "{kind}: resident() repeats a page"
        );
        outcomes.push(o);
    }
    outcomes
}

fn refs_strategy() -> impl Strategy<Value = Refs> {
    prop::collection::vec((0u64..12, any::<bool>()), 0..200)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_policy_keeps_the_contract(refs in refs_strategy(), frames in 1usize..8) {
        for &kind in PolicyKind::ALL {
            let a = check_contract(kind, frames, &refs);
            let b = check_contract(kind, frames, &refs);
            prop_assert_eq!(a.len(), refs.len());
            prop_assert_eq!(a, b, "{} is not deterministic", kind);
            let s = simulate_kind(kind, frames, &refs, 7).expect("frames >= 1");
            prop_assert_eq!(s.accesses(), refs.len() as u64);
        }
    }

    #[test]
    fn remove_frees_a_frame(refs in refs_strategy(), frames in 1usize..6, victim in 0u64..12) {
        for &kind in PolicyKind::ALL {
            let mut p = AnyPolicy::new(kind, frames, &pages(&refs), 1).expect("frames >= 1");
            for &(page, w) in &refs {
                let _ = p.access(page, w);
            }
            let was = p.contains(victim);
            let before = p.len();
            prop_assert_eq!(p.remove(victim).is_some(), was, "{}", kind);
            prop_assert!(!p.contains(victim));
            prop_assert_eq!(p.len(), before - usize::from(was));
            if was {
                // A free frame: the next miss evicts nothing (for every policy but OPT, whose
                // trace no longer matches, this still holds).
                let fresh = 1000;
                prop_assert_eq!(p.access(fresh, false), Outcome::Miss { evicted: None }, "{}", kind);
            }
        }
    }

    #[test]
    fn opt_is_never_worse(refs in refs_strategy(), frames in 1usize..8) {
        let opt = simulate_kind(PolicyKind::Opt, frames, &refs, 3).expect("frames").misses;
        for &kind in PolicyKind::ALL {
            let m = simulate_kind(kind, frames, &refs, 3).expect("frames").misses;
            prop_assert!(opt <= m, "opt {} > {} {}", opt, kind, m);
        }
    }

    #[test]
    fn lru_and_opt_have_inclusion(refs in refs_strategy(), frames in 1usize..7) {
        for kind in [PolicyKind::Lru, PolicyKind::Opt] {
            let trace = pages(&refs);
            let mut small = AnyPolicy::new(kind, frames, &trace, 0).expect("frames");
            let mut big = AnyPolicy::new(kind, frames + 1, &trace, 0).expect("frames");
            let (mut a, mut b) = (Vec::new(), Vec::new());
            for &(page, w) in &refs {
                let _ = small.access(page, w);
                let _ = big.access(page, w);
                a.clear();
                b.clear();
                small.resident(&mut a);
                big.resident(&mut b);
                let bs: HashSet<u64> = b.iter().copied().collect();
                prop_assert!(a.iter().all(|p| bs.contains(p)), "{}: {:?} not in {:?}", kind, a, b);
            }
        }
    }

    #[test]
    fn lru_matches_a_vec_oracle(refs in refs_strategy(), frames in 1usize..8) {
        let mut p = AnyPolicy::new(PolicyKind::Lru, frames, &[], 0).expect("frames");
        let mut stack: Vec<u64> = Vec::new(); // least recent first
        let mut buf = Vec::new();
        for &(page, w) in &refs {
            let hit = if let Some(i) = stack.iter().position(|&x| x == page) {
                stack.remove(i);
                true
            } else {
                if stack.len() == frames {
                    stack.remove(0);
                }
                false
            };
            stack.push(page);
            prop_assert_eq!(p.access(page, w).is_hit(), hit);
            buf.clear();
            p.resident(&mut buf);
            prop_assert_eq!(&buf, &stack);
        }
    }

    #[test]
    fn classic_policies_match_the_list_cache(refs in refs_strategy(), frames in 1usize..8) {
        let trace: Vec<i64> = refs.iter().map(|r| r.0 as i64).collect();
        for (kind, lp) in [
            (PolicyKind::Fifo, ListPolicy::Fifo),
            (PolicyKind::Lru, ListPolicy::Lru),
            (PolicyKind::Mru, ListPolicy::Mru),
            (PolicyKind::Opt, ListPolicy::Opt),
        ] {
            let mut fast = AnyPolicy::new(kind, frames, &pages(&refs), 0).expect("frames");
            let mut slow = ListCache::new(lp, frames as i64);
            for (pos, &(page, w)) in refs.iter().enumerate() {
                let s = slow.access(&trace, pos, || 0.0).expect("capacity >= 1");
                let f = fast.access(page, w);
                prop_assert_eq!(f.is_hit(), s.hit, "{} at {}", kind, pos);
                if kind != PolicyKind::Opt {
                    // OPT's ties between equally distant pages may differ; its misses may not.
                    let fv = match f { Outcome::Miss { evicted: Some(e) } => Some(e.page as i64), _ => None };
                    prop_assert_eq!(fv, s.victim, "{} victim at {}", kind, pos);
                }
            }
        }
    }
}

#[test]
fn fifo_shows_beladys_anomaly() {
    let refs: Refs = [1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5]
        .iter()
        .map(|&p| (p, false))
        .collect();
    let three = simulate_kind(PolicyKind::Fifo, 3, &refs, 0).expect("frames");
    let four = simulate_kind(PolicyKind::Fifo, 4, &refs, 0).expect("frames");
    assert_eq!(three.misses, 9);
    assert_eq!(four.misses, 10);
    // LRU and OPT are stack algorithms: no anomaly.
    for kind in [PolicyKind::Lru, PolicyKind::Opt] {
        let a = simulate_kind(kind, 3, &refs, 0).expect("frames").misses;
        let b = simulate_kind(kind, 4, &refs, 0).expect("frames").misses;
        assert!(b <= a, "{kind}");
    }
    assert_eq!(
        simulate_kind(PolicyKind::Opt, 3, &refs, 0)
            .expect("f")
            .misses,
        7
    );
    assert_eq!(
        simulate_kind(PolicyKind::Lru, 3, &refs, 0)
            .expect("f")
            .misses,
        10
    );
}

#[test]
fn dirty_evictions_count_writebacks() {
    // Two frames, FIFO: 1w 2 3 (evicts dirty 1) 4 (evicts clean 2).
    let refs = [(1, true), (2, false), (3, false), (4, false)];
    let s = simulate_kind(PolicyKind::Fifo, 2, &refs, 0).expect("frames");
    assert_eq!(
        (s.hits, s.misses, s.evictions, s.dirty_evictions),
        (0, 4, 2, 1)
    );
}

#[test]
fn zero_frames_and_unknown_names_are_errors() {
    for &kind in PolicyKind::ALL {
        assert_eq!(
            AnyPolicy::new(kind, 0, &[], 0).err(),
            Some(ReplaceError::ZeroFrames)
        );
        assert_eq!(kind.name().parse::<PolicyKind>(), Ok(kind));
    }
    assert!(matches!(
        "lruu".parse::<PolicyKind>(),
        Err(ReplaceError::UnknownPolicy(_))
    ));
}

#[test]
fn clock_gives_a_second_chance() {
    // 3 frames: 1 2 3 fill (all referenced); 4 sweeps, clears all, evicts 1; 2 is re-referenced;
    // 5: hand at 2 (clear? set again by the hit) spares it and evicts 3.
    let mut c = vmsim_core::replace::clock::Clock::new(3).expect("frames");
    let refs = [(1, false), (2, false), (3, false), (4, false), (2, false)];
    let s = simulate(&mut c, refs);
    assert_eq!((s.hits, s.misses), (1, 4));
    let o = c.access(5, false);
    assert_eq!(
        o,
        Outcome::Miss {
            evicted: Some(vmsim_core::replace::Evicted {
                page: 3,
                dirty: false
            })
        }
    );
}

/// Runs `refs` (pages separated by spaces, `w` after a page for a write: "1 2w 3") through `p`
/// and writes what each reference did: `H` a hit, `M` a miss into a free frame, `M3` a miss
/// that evicted clean page 3, `M3*` one that evicted dirty page 3.
fn script<P: Policy>(p: &mut P, refs: &str) -> String {
    refs.split_whitespace()
        .map(|tok| {
            let (num, write) = match tok.strip_suffix('w') {
                Some(n) => (n, true),
                None => (tok, false),
            };
            let page: u64 = num.parse().expect("a page number");
            match p.access(page, write) {
                Outcome::Hit => "H".to_string(),
                Outcome::Miss { evicted: None } => "M".to_string(),
                Outcome::Miss {
                    evicted: Some(e), ..
                } => format!("M{}{}", e.page, if e.dirty { "*" } else { "" }),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn script_kind(kind: PolicyKind, frames: usize, refs: &str) -> String {
    let mut p = AnyPolicy::new(kind, frames, &[], 0).expect("frames >= 1");
    script(&mut p, refs)
}

#[test]
fn car_keeps_a_ghost_hit_that_lru_loses() {
    // c = 2, p = 0; clocks written head first.
    // 1, 2: T1 = [1 2], bits clear. 1 hits: sets 1's bit.
    // 3: replace: |T1| = 2 >= max(1, p): head 1 is referenced, so it is cleared and goes to
    //    T2's tail; head 2 is clear: demoted to B1 (evicts 2). T1 = [3], T2 = [1], B1 = [2].
    // 2: a B1 hit. replace: |T1| = 1 >= 1, head 3 clear: evicts 3 to B1. Then p = 0 + 1 = 1,
    //    2 goes to T2's tail: T2 = [1 2], B1 = [3].
    // 4: replace: |T1| = 0 < max(1, 1), so T2: head 1 clear, to B2 (evicts 1). T1 = [4].
    // 1: a B2 hit. replace: |T1| = 1 >= 1, head 4 clear: evicts 4 to B1 = [3 4]; then
    //    p = 1 - max(1, |B1|/|B2| = 2) = 0; T2 = [2 1].
    // 2: a hit. LRU evicted 2, 1, 3, 2, 4 and misses the last reference.
    let refs = "1 2 1 3 2 4 1 2";
    assert_eq!(script_kind(PolicyKind::Car, 2, refs), "M M H M2 M3 M1 M4 H");
    assert_eq!(
        script_kind(PolicyKind::Lru, 2, refs),
        "M M H M2 M1 M3 M2 M4"
    );
    let mut car = vmsim_core::replace::car::Car::new(2).expect("frames");
    let _ = script(&mut car, refs);
    assert_eq!(car.target_t1(), 0);
}

#[test]
fn lru2_keeps_the_page_with_a_recent_second_reference() {
    // c = 2, times are reference numbers; key = (second-last reference, last), 0 = never.
    // 1@1 1@2 2@3: 1 = (1, 2), 2 = (0, 3). 3@4: 2 has one reference, infinite distance:
    // evicted (LRU evicts 1). 1@5 hits: 1 = (2, 5). 2@6: 3 = (0, 4) goes; 2's retained
    // history makes it (3, 6). 3@7: 1 = (2, 5) < 2 = (3, 6): evicts 1.
    let refs = "1 1 2 3 1 2 3";
    assert_eq!(script_kind(PolicyKind::Lru2, 2, refs), "M H M M2 H M3 M1");
    assert_eq!(script_kind(PolicyKind::Lru, 2, refs), "M H M M1 M2 M3 M1");
    // Without retained history 2 comes back as (0, 6) and is the victim at 7.
    let mut forgetful = vmsim_core::replace::lru_k::LruK::<2>::with_history(2, 0).expect("f");
    assert_eq!(script(&mut forgetful, refs), "M H M M2 H M3 M2");
}

/// LRU-K the slow way: full reference histories, an O(n) victim search, and a FIFO of the
/// evicted pages whose history is kept (at most `retain`).
struct SlowLruK {
    k: usize,
    frames: usize,
    retain: usize,
    now: u64,
    resident: Vec<u64>,
    history: HashMap<u64, Vec<u64>>,
    retained: std::collections::VecDeque<u64>,
}

impl SlowLruK {
    /// (K-th last reference or 0, last reference) of a resident page.
    fn key(&self, page: u64) -> (u64, u64) {
        let h = &self.history[&page];
        let kth = if h.len() >= self.k {
            h[h.len() - self.k]
        } else {
            0
        };
        (kth, *h.last().expect("a resident page was referenced"))
    }

    fn access(&mut self, page: u64) -> (bool, Option<u64>) {
        self.now += 1;
        if self.resident.contains(&page) {
            self.history
                .get_mut(&page)
                .expect("resident")
                .push(self.now);
            return (true, None);
        }
        let victim = if self.resident.len() == self.frames {
            let (at, &v) = self
                .resident
                .iter()
                .enumerate()
                .min_by_key(|&(_, &p)| self.key(p))
                .expect("full");
            self.resident.remove(at);
            self.retained.push_back(v);
            Some(v)
        } else {
            None
        };
        if let Some(at) = self.retained.iter().position(|&p| p == page) {
            self.retained.remove(at);
        } else {
            self.history.insert(page, Vec::new());
        }
        self.history
            .get_mut(&page)
            .expect("just made")
            .push(self.now);
        self.resident.push(page);
        while self.retained.len() > self.retain {
            let gone = self.retained.pop_front().expect("non-empty");
            self.history.remove(&gone);
        }
        (false, victim)
    }
}

fn check_lru_k<const K: usize>(refs: &[(u64, bool)], frames: usize, retain: usize) {
    use vmsim_core::replace::lru_k::LruK;
    let mut fast = LruK::<K>::with_history(frames, retain).expect("frames");
    let mut slow = SlowLruK {
        k: K,
        frames,
        retain,
        now: 0,
        resident: Vec::new(),
        history: HashMap::new(),
        retained: Default::default(),
    };
    for (at, &(page, w)) in refs.iter().enumerate() {
        let (hit, victim) = slow.access(page);
        let o = fast.access(page, w);
        let fv = match o {
            Outcome::Miss { evicted } => evicted.map(|e| e.page),
            Outcome::Hit => None,
        };
        assert_eq!((o.is_hit(), fv), (hit, victim), "K={K} at {at}");
    }
    let mut order = Vec::new();
    fast.resident(&mut order);
    let mut expect = slow.resident.clone();
    expect.sort_by_key(|&p| slow.key(p));
    assert_eq!(order, expect, "resident() is eviction order");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn lru_k_matches_a_slow_oracle(
        refs in refs_strategy(),
        frames in 1usize..8,
        retain in 0usize..12,
    ) {
        check_lru_k::<1>(&refs, frames, retain);
        check_lru_k::<2>(&refs, frames, retain);
        check_lru_k::<3>(&refs, frames, retain);
    }
}

#[test]
fn lirs_protects_its_lir_set_from_a_scan() {
    // c = 3: Lhirs = 1, Llirs = 2. S written bottom to top, `n` = non-resident HIR.
    // 1 2: LIR (the LIR set is not full). 1 2 hit: S = [1 2].
    // 3: HIR, S = [1 2 3], Q = [3]. 4: evicts Q's front 3 (stays in S as 3n); 5 evicts 4.
    //    S = [1 2 3n 4n 5], Q = [5]. (LRU evicts 1 and 2 here.)
    // 1, 2: LIR hits; 2's move prunes 3n, 4n and 5 off the bottom: S = [1 2], Q = [5].
    // 3: not in S: evicts 5 (forgotten), S = [1 2 3], Q = [3].
    // 3: a resident HIR page in S: becomes LIR; the bottom LIR page 1 goes to Q: S = [2 3].
    // 4: evicts 1 (not in S). S = [2 3 4], Q = [4]. 1: evicts 4 (stays as 4n), S = [2 3 4n 1].
    // 4: evicts 1 (to 1n); 4 was in S, so it becomes LIR and 2 is demoted: S = [3 1n 4],
    //    Q = [2]. 2: a resident HIR hit.
    let refs = "1 2 1 2 3 4 5 1 2 3 3 4 1 4 2";
    assert_eq!(
        script_kind(PolicyKind::Lirs, 3, refs),
        "M M H H M M3 M4 H H M5 H M1 M4 M1 H"
    );
    assert_eq!(
        script_kind(PolicyKind::Lru, 3, refs),
        "M M H H M M1 M2 M3 M4 M5 H M1 M2 H M3"
    );
}

#[test]
fn lirs_history_stays_bounded() {
    use vmsim_core::replace::lirs::Lirs;
    let mut p = Lirs::new(4).expect("frames");
    // 1..=3 become LIR; then new pages, each referenced once with 1 in between: 2 and 3 stay
    // at the bottom of S, so nothing prunes the evicted ones and only the bound limits them.
    let _ = simulate(&mut p, [(1, false), (2, false), (3, false)]);
    for n in 10..1000u64 {
        let _ = p.access(n, false);
        let _ = p.access(1, false);
        assert!(p.nonresident() <= 8, "{} at {n}", p.nonresident());
    }
    assert_eq!(p.lir_len(), 3);
    assert_eq!(p.nonresident(), 8);
}

#[test]
fn clock_pro_keeps_a_hot_page_through_a_scan() {
    // m = 3, m_c = 1. The clock from HAND_hot round to the head; c cold, h hot, n
    // non-resident, t in test, r referenced.
    // 1 2 3: [1ct 2ct 3ct]. 1 2 hit: 1ctr 2ctr.
    // 4: HAND_cold at 1: referenced in test, so hot (m_c 2), to the head; then 2 likewise
    //    (m_c 3): [3ct 1h 2h] and 2 hot pages > m - m_c = 0, so HAND_hot runs: 3's test ends
    //    unused (m_c 2), 1 is unreferenced: cold; it stops at 2: [2h 3c 1c]. HAND_cold
    //    evicts 3 (no test: gone). [2h 1c 4ct].
    // 5: evicts 1 (no test): [2h 4ct 5ct]. 6: evicts 4, kept as 4n: [2h 4n 5ct 6ct].
    //    (LRU evicts 2 here.) 1: evicts 5 (to 5n): [2h 4n 5n 6ct 1ct].
    // 4: evicts 6 (to 6n); 4 is re-referenced in its test period: hot (m_c 3) at the head;
    //    HAND_hot turns 2 cold, then ends the tests of 5n and 6n (gone; m_c 2, 1) and of 1
    //    (m_c stays 1) and stops at 4: [4h 2c 1c]. 2: a hit.
    let refs = "1 2 3 1 2 4 5 6 1 4 2";
    let mut p = vmsim_core::replace::clock_pro::ClockPro::new(3).expect("frames");
    assert_eq!(script(&mut p, refs), "M M M H H M3 M1 M4 M5 M6 H");
    assert_eq!((p.cold_target(), p.hot_len(), p.nonresident()), (1, 1, 0));
    let mut order = Vec::new();
    p.resident(&mut order);
    assert_eq!(order, [4, 2, 1]);
    assert_eq!(
        script_kind(PolicyKind::Lru, 3, refs),
        "M M M H H M3 M1 M2 M4 M5 M6"
    );
}

#[test]
fn clock_pro_with_one_frame_and_bounded_history() {
    let mut p = vmsim_core::replace::clock_pro::ClockPro::new(1).expect("frames");
    // 1 2: 1 evicted in its test period (1n). 1: a test hit, hot; HAND_hot must turn it cold
    // again since m - m_c = 0, after dropping 2n. Then 1 is referenced and out of its test:
    // HAND_cold gives it a new test period and evicts it on the next pass.
    assert_eq!(script(&mut p, "1 2 1 1 3w 4"), "M M1 M2 H M1 M3*");
    assert_eq!(p.hot_len(), 0);
    let mut big = vmsim_core::replace::clock_pro::ClockPro::new(4).expect("frames");
    for n in 0..1000u64 {
        let _ = big.access(n, false);
        assert!(big.nonresident() <= 4);
    }
}

#[test]
fn wsclock_evicts_old_clean_pages_first() {
    use vmsim_core::replace::wsclock::WsClock;
    // 3 frames, τ = 3: a page is old when not used in the last 3 references (now - last >= 3).
    // Times are reference numbers; loads set last = now with the bit clear.
    // 1w@1 2@2 3@3, 3@4 3@5 set 3's bit. 4@6: the hand at 1: old (age 5) but dirty, passed
    // over; 2: old (age 4) and clean: evicted (LRU and CLOCK evict 1). The hand is at 3.
    // 1@7 sets 1's bit. 5@8: 3 referenced: cleared, last = 8; 1 likewise; 4 (last 6) is not
    // old; no old page, so the first clean page seen, 3, goes. The hand is at 1.
    // 2@9: 1 is young (last 8); 4 is old (age 3) and clean: evicted.
    let refs = "1w 2 3 3 3 4 1 5 2";
    let mut p = WsClock::new(3).expect("frames");
    assert_eq!(p.tau(), 3);
    assert_eq!(script(&mut p, refs), "M M M H H M2 H M3 M4");
    assert_eq!(
        script_kind(PolicyKind::Lru, 3, refs),
        "M M M H H M1* M2 M3 M4"
    );
    // τ = 2. 4@4: 1 is old and dirty: its write-back is scheduled; 2 is old and clean: out.
    // 5@5: 3 (age 2) goes. 6@6: the hand is back at 1, written back meanwhile: it goes (and
    // the eviction reports the write-back). Were dirty pages simply skipped, 4 would go.
    let mut p = WsClock::with_tau(3, 2).expect("frames");
    assert_eq!(script(&mut p, "1w 2 3 4 5 6"), "M M M M2 M3 M1*");
    // Only dirty pages old: the first of them (its write-back done) goes.
    let mut p = WsClock::with_tau(2, 2).expect("frames");
    assert_eq!(script(&mut p, "1w 2w 3"), "M M M1*");
    // Nothing old: the first clean page; nothing clean either: the page under the hand.
    let mut p = WsClock::with_tau(2, 100).expect("frames");
    assert_eq!(script(&mut p, "1w 2 3"), "M M M2");
    let mut p = WsClock::with_tau(2, 100).expect("frames");
    assert_eq!(script(&mut p, "1w 2w 3"), "M M M1*");
}

#[test]
fn esc_prefers_unreferenced_clean_pages() {
    // 3 frames; (referenced, dirty) per page; a load sets the reference bit.
    // 1w 2 3: (1,1) (1,0) (1,0). 4: no (0,0), no (0,1) while clearing every bit: (0,1) (0,0)
    //    (0,0); again: 2 is the first (0,0) and goes (LRU and CLOCK evict 1). Hand at 3.
    // 1: hit, (1,1). 5w: 3 is (0,0): evicted. Hand at 1.
    // 6: 1 (1,1), 4 (1,0), 5 (1,1): no (0,0); the (0,1) pass clears all; then 4 is (0,0).
    // 2: hand at 5 (0,1), then 1 (0,1), 6 (1,0): no (0,0); the (0,1) pass takes 5 first.
    let refs = "1w 2 3 4 1 5w 6 2";
    assert_eq!(
        script_kind(PolicyKind::Esc, 3, refs),
        "M M M M2 H M3 M4 M5*"
    );
    assert_eq!(
        script_kind(PolicyKind::Lru, 3, refs),
        "M M M M1* M2 M3 M4 M1"
    );
}

#[test]
fn nru_evicts_from_the_lowest_class() {
    // 3 frames, reference bits cleared after every 3rd reference; class = 2R + M.
    // 1 2 3: class 2, then the tick: class 0 = [1 2 3] (longest there first).
    // 1w: class 3. 4: evicts 2 from class 0 (LRU too). 2: evicts 3. Tick: 4 2 to class 0,
    // 1 to class 1. 5: evicts 4 (LRU evicts dirty 1). 6: evicts 2. 7: class 0 is empty, so
    // 1 from class 1 goes before 5 and 6, referenced, in class 2.
    let refs = "1 2 3 1w 4 2 5 6 7";
    assert_eq!(
        script_kind(PolicyKind::Nru, 3, refs),
        "M M M H M2 M3 M4 M2 M1*"
    );
    assert_eq!(
        script_kind(PolicyKind::Lru, 3, refs),
        "M M M H M2 M3 M1* M4 M2"
    );
}

#[test]
fn aging_ticks_coarsen_recency() {
    // 3 frames, an interrupt after every 3rd reference; key (counter, referenced, load order).
    // 1 2 3, tick: counters 128 each. 2 1 hit. 4: 3 (128, unreferenced) goes. Tick: 1 and 2
    // have 192, 4 has 128. 5: 4 goes; LRU evicts 2, whose last use was before 1's.
    let refs = "1 2 3 2 1 4 5";
    assert_eq!(script_kind(PolicyKind::Aging, 3, refs), "M M M H H M3 M4");
    assert_eq!(script_kind(PolicyKind::Nfu, 3, refs), "M M M H H M3 M4");
    assert_eq!(script_kind(PolicyKind::Lru, 3, refs), "M M M H H M3 M2");
}

#[test]
fn aging_forgets_and_nfu_does_not() {
    use vmsim_core::replace::aging::{Aging, Nfu};
    // 2 frames, an interrupt after every reference. 1 1 1: aging 128, 192, 224; NFU 1, 2, 3.
    // 2: aging 1 -> 112, 2 -> 128; NFU 1 stays 3, 2 -> 1. 3: aging evicts 1, NFU evicts 2.
    let refs = "1 1 1 2 3";
    let mut aging = Aging::with_period(2, 1).expect("frames");
    assert_eq!(script(&mut aging, refs), "M H H M M1");
    let mut nfu = Nfu::with_period(2, 1).expect("frames");
    assert_eq!(script(&mut nfu, refs), "M H H M M2");
    assert_eq!(nfu.counter(1), Some(3));
    assert_eq!(aging.counter(2), Some(64));
    // 8-bit counters: eight quiet intervals clear them.
    let _ = script(&mut aging, "3 3 3 3 3 3 3 3");
    assert_eq!(aging.counter(3), Some(255));
    assert_eq!(aging.counter(2), Some(0));
}

#[test]
fn working_set_evicts_outside_the_window_from_the_hand() {
    use vmsim_core::replace::working_set::WorkingSet;
    // 4 frames, τ = 4: at time t a page is outside the working set if last used at t - 4 or
    // before. Frames in load order 1 2 3 4; the hand at frame 0.
    // 1@1 2@2 3@3 4@4 2@5 1@6 1@7 1@8. 5@9: outside: 2 (5), 3 (3), 4 (4); from the hand,
    // frame 0 holds 1 (in), frame 1 holds 2: evicted. LRU evicts 3, the stalest.
    // 6@10: outside: 3, 4 (1 and 5 are in); the hand is past frame 1, at 3: evicted.
    let refs = "1 2 3 4 2 1 1 1 5 6";
    let mut p = WorkingSet::new(4).expect("frames");
    assert_eq!(p.tau(), 4);
    assert_eq!(script(&mut p, refs), "M M M M H H H H M2 M3");
    assert_eq!(p.in_working_set(4), Some(false));
    assert_eq!(p.in_working_set(5), Some(true));
    assert_eq!(
        script_kind(PolicyKind::Lru, 4, refs),
        "M M M M H H H H M3 M4"
    );
    // τ decides: with τ = 2 at 4@6 both 2 (4) and 3 (3) are outside and the hand finds 2
    // first; with a window larger than memory nothing is outside, so the LRU page 3 goes.
    let refs = "1 2 3 2 1 4";
    let mut p = WorkingSet::with_tau(3, 2).expect("frames");
    assert_eq!(script(&mut p, refs), "M M M H H M2");
    let mut p = WorkingSet::with_tau(3, 100).expect("frames");
    assert_eq!(script(&mut p, refs), "M M M H H M3");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// The working-set policy against a linear scan of the frame table from the hand.
    #[test]
    fn working_set_matches_a_frame_scan(
        refs in refs_strategy(),
        frames in 1usize..8,
        tau in 1u64..12,
    ) {
        use vmsim_core::replace::working_set::WorkingSet;
        let mut fast = WorkingSet::with_tau(frames, tau).expect("frames");
        let mut table: Vec<(u64, u64)> = Vec::new(); // (page, last use)
        let mut hand = 0;
        for (now, &(page, w)) in (1u64..).zip(&refs) {
            let slow = if let Some(f) = table.iter_mut().find(|f| f.0 == page) {
                f.1 = now;
                None
            } else if table.len() < frames {
                table.push((page, now));
                Some(None)
            } else {
                let n = table.len();
                let v = (0..n)
                    .map(|k| (hand + k) % n)
                    .find(|&i| table[i].1 + tau <= now)
                    .unwrap_or_else(|| (0..n).min_by_key(|&i| table[i].1).expect("full"));
                let old = table[v].0;
                table[v] = (page, now);
                hand = (v + 1) % n;
                Some(Some(old))
            };
            let got = match fast.access(page, w) {
                Outcome::Hit => None,
                Outcome::Miss { evicted } => Some(evicted.map(|e| e.page)),
            };
            prop_assert_eq!(got, slow, "at {}", now);
        }
    }
}

#[test]
fn mglru_orders_by_generation_not_by_last_use() {
    use vmsim_core::replace::mglru::Mglru;
    // 3 frames; generations 0..=3 at first, faults join the youngest (3); r = accessed.
    // 1 2 3 into gen 3; 2 and 1 hit (accessed bits set, nothing moves).
    // 4: gens 0-2 are empty and retired down to two generations (2, 3), so aging opens 4 and
    //    moves 1 then 2 (walking gen 3 oldest first) into it, clearing their bits; two
    //    generations (3, 4) again: aging opens 5, moving nothing. Three generations, the
    //    oldest (gen 3 = [3]) a third of memory: no more aging; 3 is evicted. 4 joins gen 5.
    // 5: gen 3 is empty and retired: two generations, so aging opens 6. Gen 4 = [1 2] is the
    //    oldest; 1 was loaded first, so it is evicted though 2 was used before it (LRU evicts
    //    2). 5 joins gen 6. 2: a hit.
    let refs = "1 2 3 2 1 4 5 2";
    let mut p = Mglru::new(3).expect("frames");
    assert_eq!(script(&mut p, refs), "M M M H H M3 M1 H");
    assert_eq!(p.seqs(), (4, 6));
    let mut order = Vec::new();
    p.resident(&mut order);
    assert_eq!(order, [2, 4, 5]);
    assert_eq!(script_kind(PolicyKind::Lru, 3, refs), "M M M H H M3 M2 M1");
}

#[test]
fn mglru_promotes_a_referenced_page_found_at_eviction() {
    use vmsim_core::replace::mglru::Mglru;
    // Continuing the state above: gens 4 = [2], 5 = [4], 6 = [5]; 2's bit is set by its hit.
    // 6: three generations, the youngest a third of memory and the oldest a third: no aging.
    //    The oldest page, 2, is referenced: it moves to gen 6 with its bit cleared; gen 4 is
    //    now empty and retired, leaving 5 and 6, so aging opens 7 (no bits set). Gen 5's 4 is
    //    evicted; 6 joins gen 7.
    let mut p = Mglru::new(3).expect("frames");
    let _ = script(&mut p, "1 2 3 2 1 4 5 2");
    assert_eq!(script(&mut p, "6"), "M4");
    assert_eq!(p.seqs(), (5, 7));
    let mut order = Vec::new();
    p.resident(&mut order);
    assert_eq!(order, [5, 2, 6]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Enhanced second chance against the passes done literally over a frame table.
    #[test]
    fn esc_matches_the_literal_sweeps(refs in refs_strategy(), frames in 1usize..8) {
        let mut fast = AnyPolicy::new(PolicyKind::Esc, frames, &[], 0).expect("frames");
        let mut table: Vec<(u64, bool, bool)> = Vec::new(); // (page, referenced, dirty)
        let mut hand = 0;
        for (at, &(page, w)) in refs.iter().enumerate() {
            let slow = if let Some(f) = table.iter_mut().find(|f| f.0 == page) {
                f.1 = true;
                f.2 |= w;
                None
            } else if table.len() < frames {
                table.push((page, true, w));
                Some(None)
            } else {
                let n = table.len();
                let mut victim = None;
                'rounds: for _ in 0..2 {
                    for want_dirty in [false, true] {
                        for k in 0..n {
                            let i = (hand + k) % n;
                            if !table[i].1 && table[i].2 == want_dirty {
                                victim = Some(i);
                                break 'rounds;
                            }
                            if want_dirty {
                                table[i].1 = false;
                            }
                        }
                    }
                }
                let v = victim.expect("two rounds find a page");
                let old = table[v].0;
                table[v] = (page, true, w);
                hand = (v + 1) % n;
                Some(Some(old))
            };
            let got = match fast.access(page, w) {
                Outcome::Hit => None,
                Outcome::Miss { evicted } => Some(evicted.map(|e| e.page)),
            };
            prop_assert_eq!(got, slow, "at {}", at);
        }
    }
}

/// Every policy, given more frames than the trace has pages (up to the largest count there
/// is), gives the footprint's answer, and sizes itself by the trace rather than the request
/// (`--frames 18446744073709551615` overflowed capacity; 10^12 frames tried to allocate 24 TB).
#[test]
fn frames_above_the_footprint_give_the_footprints_answer() {
    // A footprint above the size below which frame counts are used as given.
    let footprint = 5000u64;
    let refs: Vec<(u64, bool)> = (0..3 * footprint)
        .map(|i| ((i * 7919) % footprint, i % 5 == 0))
        .collect();
    for &kind in PolicyKind::ALL {
        let at = simulate_kind(kind, footprint as usize, &refs, 1).expect("frames");
        assert_eq!(at.misses, footprint, "{kind}");
        assert_eq!(at.evictions, 0, "{kind}");
        for frames in [
            footprint as usize + 1,
            1 << 24,
            1_000_000_000_000,
            usize::MAX,
        ] {
            let s = simulate_kind(kind, frames, &refs, 1).expect("frames");
            assert_eq!(s, at, "{kind} at {frames} frames");
        }
    }
    assert_eq!(vmsim_core::replace::frames_needed(usize::MAX, &refs), 5000);
    assert_eq!(vmsim_core::replace::frames_needed(4999, &refs), 4999);
    assert_eq!(
        vmsim_core::replace::frames_needed(usize::MAX, &refs[..10]),
        10
    );
}
