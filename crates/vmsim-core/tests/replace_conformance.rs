//! Every fast replacement policy against the contract of `Policy` and against the list-based
//! oracle: same hits and misses as the obvious implementation, capacity never exceeded, victims
//! always resident, OPT never worse than anything, LRU and OPT free of Belady's anomaly.
use proptest::prelude::*;
use std::collections::HashSet;
use vmsim_core::replace::clock::Clock;
use vmsim_core::replace::fifo::Fifo;
use vmsim_core::replace::lru::Lru;
use vmsim_core::replace::opt::Opt;
use vmsim_core::replace::{simulate, ListCache, ListPolicy, Outcome, Policy};

fn all(frames: usize, trace: &[u64]) -> Vec<Box<dyn Policy>> {
    vec![
        Box::new(Fifo::new(frames)),
        Box::new(Lru::new(frames)),
        Box::new(Clock::new(frames)),
        Box::new(Opt::new(frames, trace)),
    ]
}

fn oracle_misses(policy: ListPolicy, frames: usize, trace: &[u64]) -> Vec<bool> {
    let t: Vec<i64> = trace.iter().map(|&p| p as i64).collect();
    let mut c = ListCache::new(policy, frames as i64);
    (0..t.len())
        .map(|i| !c.access(&t, i, || 0.0).unwrap().hit)
        .collect()
}

fn misses_of(p: &mut dyn Policy, trace: &[u64]) -> Vec<bool> {
    trace
        .iter()
        .map(|&x| matches!(p.access(x, false), Outcome::Miss { .. }))
        .collect()
}

#[test]
fn beladys_anomaly_with_the_fast_fifo() {
    let t = [1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5].map(|x: u64| (x, false));
    assert_eq!(simulate(&mut Fifo::new(3), t).misses, 9);
    assert_eq!(simulate(&mut Fifo::new(4), t).misses, 10);
    let pages: Vec<u64> = t.iter().map(|x| x.0).collect();
    assert_eq!(simulate(&mut Opt::new(3, &pages), t).misses, 7);
}

#[test]
fn dirty_evictions_count_writebacks() {
    // Capacity 1: page 1 is written, evicted by 2 (a writeback), 2 is only read.
    let s = simulate(&mut Lru::new(1), [(1, true), (2, false), (3, false)]);
    assert_eq!((s.misses, s.evictions, s.dirty_evictions), (3, 2, 1));
}

proptest! {
    #[test]
    fn fast_policies_match_the_list_oracle(trace in prop::collection::vec(0u64..24, 1..300), frames in 1usize..10) {
        prop_assert_eq!(misses_of(&mut Fifo::new(frames), &trace), oracle_misses(ListPolicy::Fifo, frames, &trace));
        prop_assert_eq!(misses_of(&mut Lru::new(frames), &trace), oracle_misses(ListPolicy::Lru, frames, &trace));
        // OPT's victim on ties may differ, its miss count may not.
        let opt = misses_of(&mut Opt::new(frames, &trace), &trace).iter().filter(|&&m| m).count();
        let oracle = oracle_misses(ListPolicy::Opt, frames, &trace).iter().filter(|&&m| m).count();
        prop_assert_eq!(opt, oracle);
    }

    #[test]
    fn contract_and_optimality(trace in prop::collection::vec((0u64..40, any::<bool>()), 1..400), frames in 1usize..12) {
        let pages: Vec<u64> = trace.iter().map(|x| x.0).collect();
        let opt_misses = simulate(&mut Opt::new(frames, &pages), trace.clone()).misses;
        for mut p in all(frames, &pages) {
            let mut resident: HashSet<u64> = HashSet::new();
            let mut dirty: HashSet<u64> = HashSet::new();
            let (mut hits, mut misses) = (0, 0);
            for &(page, write) in &trace {
                match p.access(page, write) {
                    Outcome::Hit => {
                        prop_assert!(resident.contains(&page), "{} hit on a non-resident page", p.name());
                        hits += 1;
                    }
                    Outcome::Miss { evicted } => {
                        prop_assert!(!resident.contains(&page), "{} missed a resident page", p.name());
                        misses += 1;
                        if let Some(e) = evicted {
                            prop_assert!(resident.remove(&e.page), "{} evicted a non-resident page", p.name());
                            prop_assert_eq!(e.dirty, dirty.remove(&e.page), "{} dirty state", p.name());
                            prop_assert_eq!(resident.len() + 1, frames, "{} evicted with free frames", p.name());
                        }
                        resident.insert(page);
                    }
                }
                if write { dirty.insert(page); }
                prop_assert!(p.len() <= frames && p.len() == resident.len());
            }
            prop_assert_eq!(hits + misses, trace.len());
            prop_assert!(misses as u64 >= opt_misses, "{} beat OPT", p.name());
        }
    }

    #[test]
    fn lru_and_opt_have_the_inclusion_property(trace in prop::collection::vec(0u64..30, 1..300), frames in 1usize..15) {
        let refs: Vec<(u64, bool)> = trace.iter().map(|&p| (p, false)).collect();
        prop_assert!(simulate(&mut Lru::new(frames + 1), refs.clone()).misses <= simulate(&mut Lru::new(frames), refs.clone()).misses);
        prop_assert!(simulate(&mut Opt::new(frames + 1, &trace), refs.clone()).misses <= simulate(&mut Opt::new(frames, &trace), refs).misses);
    }
}
