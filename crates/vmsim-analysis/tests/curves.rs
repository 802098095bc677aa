//! Miss-ratio curves against per-size simulation, and working sets against a brute-force
//! oracle.

use proptest::prelude::*;
use std::collections::HashSet;
use vmsim_analysis::mrc::{lru_histogram, opt_histogram, LruStack, ShardsCurve};
use vmsim_analysis::opt_curve::opt_misses;
use vmsim_analysis::ws::{size_over_time, thrashing_fraction, WorkingSetCurve};
use vmsim_core::replace::{simulate_kind, PolicyKind};

fn refs(pages: &[u64]) -> Vec<(u64, bool)> {
    pages.iter().map(|&p| (p, false)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn mattson_equals_lru_simulation(pages in prop::collection::vec(0u64..40, 0..300)) {
        let h = lru_histogram(pages.iter().copied());
        let curve = h.miss_curve();
        let r = refs(&pages);
        for c in 1..=(h.distinct() as usize + 1) {
            let s = simulate_kind(PolicyKind::Lru, c, &r, 0).expect("frames");
            prop_assert_eq!(h.misses(c), s.misses, "size {}", c);
            if c < curve.len() {
                prop_assert_eq!(curve[c], s.misses);
            }
        }
    }

    #[test]
    fn opt_curve_equals_opt_simulation(pages in prop::collection::vec(0u64..20, 0..200)) {
        let h = opt_histogram(&pages);
        let r = refs(&pages);
        for c in 1..=(h.distinct() as usize + 1) {
            let s = simulate_kind(PolicyKind::Opt, c, &r, 0).expect("frames");
            prop_assert_eq!(h.misses(c), s.misses, "size {}", c);
        }
    }

    /// The banded one-pass OPT curve against Belady's MIN simulated size by size, at every size
    /// from 0 to past the footprint, asked for in any order and with repeats.
    #[test]
    fn opt_misses_equal_opt_simulation_at_every_size(
        pages in prop::collection::vec(0u64..24, 0..240),
        shuffle in any::<u64>(),
    ) {
        let footprint = pages.iter().collect::<HashSet<_>>().len();
        let mut sizes: Vec<usize> = (0..=footprint + 2).collect();
        let k = sizes.len();
        sizes.rotate_left(shuffle as usize % k);
        sizes.push(sizes[shuffle as usize % k]);
        let got = opt_misses(&pages, &sizes);
        let r = refs(&pages);
        for (&c, &m) in sizes.iter().zip(&got) {
            let expect = if c == 0 {
                pages.len() as u64
            } else {
                simulate_kind(PolicyKind::Opt, c, &r, 0).expect("frames").misses
            };
            prop_assert_eq!(m, expect, "size {}", c);
        }
        // Sparse grids (only some boundaries) give the same answers.
        let sparse: Vec<usize> = sizes.iter().copied().filter(|c| c % 3 == 1).collect();
        let got_sparse = opt_misses(&pages, &sparse);
        for (&c, &m) in sparse.iter().zip(&got_sparse) {
            prop_assert_eq!(m, simulate_kind(PolicyKind::Opt, c, &r, 0).expect("frames").misses);
        }
    }

    #[test]
    fn stack_distance_is_distinct_pages_since_last_use(pages in prop::collection::vec(0u64..30, 0..200)) {
        let mut s = LruStack::new();
        for (t, &p) in pages.iter().enumerate() {
            let d = s.access(p);
            let expect = pages[..t].iter().rposition(|&q| q == p).map(|l| {
                pages[l + 1..t].iter().collect::<HashSet<_>>().len() + 1
            });
            prop_assert_eq!(d, expect);
        }
    }

    #[test]
    fn working_set_sizes_match_brute_force(pages in prop::collection::vec(0u64..15, 1..150), tau in 0usize..40) {
        let over = size_over_time(&pages, tau);
        for (t, &w) in over.iter().enumerate() {
            let lo = (t + 1).saturating_sub(tau);
            let brute = pages[lo..=t].iter().collect::<HashSet<_>>().len();
            prop_assert_eq!(w, if tau == 0 { 0 } else { brute });
        }
        let mean = over.iter().sum::<usize>() as f64 / pages.len() as f64;
        let got = WorkingSetCurve::build(&pages, &[tau, 1, tau + 3])[0].expect("asked for");
        prop_assert!((got - mean).abs() < 1e-9, "{} vs {}", got, mean);
        let th = thrashing_fraction(&pages, tau, 3);
        let brute_th = over.iter().filter(|&&w| w > 3).count() as f64 / pages.len() as f64;
        prop_assert!((th - brute_th).abs() < 1e-12);
    }
}

#[test]
fn stack_survives_compaction() {
    // Far more references than the initial tree: exercises renumbering.
    let pages: Vec<u64> = (0..20_000u64).map(|i| (i * 7919) % 613).collect();
    let h = lru_histogram(pages.iter().copied());
    let r = refs(&pages);
    for c in [1, 100, 612, 613] {
        let s = simulate_kind(PolicyKind::Lru, c, &r, 0).expect("frames");
        assert_eq!(h.misses(c), s.misses, "size {c}");
    }
}

#[test]
fn a_loop_has_a_cliff() {
    // A loop over 10 pages, 10 times: LRU misses everything below 10 frames, only cold at 10.
    let pages: Vec<u64> = (0..100).map(|i| i % 10).collect();
    let h = lru_histogram(pages.iter().copied());
    assert_eq!(h.misses(9), 100);
    assert_eq!(h.misses(10), 10);
    assert_eq!(h.hist[10], 90);
}

#[test]
fn shards_at_full_rate_is_exact_and_sampled_is_close() {
    // A skewed pseudo-random trace: page = (x * x) % 2000 for uniform x favours low pages.
    let mut x: u64 = 88172645463325252;
    let pages: Vec<u64> = (0..300_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let u = x % 20_000;
            u * u / 20_000
        })
        .collect();
    let exact = lru_histogram(pages.iter().copied());
    let full = ShardsCurve::build(pages.iter().copied(), 1.0);
    assert_eq!(full.max_error(&exact, 20_000), 0.0);
    let sampled = ShardsCurve::build(pages.iter().copied(), 0.1);
    let err = sampled.max_error(&exact, 20_000);
    eprintln!("SHARDS 10% max error {err}");
    assert!(err < 0.05, "error {err}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A cache at or above the footprint, up to the largest size there is, misses only the
    /// first reference to each page (the stack histogram's `size + 1` once wrapped to 0 hits).
    #[test]
    fn sizes_above_the_footprint_give_the_footprints_answer(
        pages in prop::collection::vec(0u64..50, 1..300),
        extra in prop_oneof![0usize..10, Just(usize::MAX / 2), Just(usize::MAX - 1), Just(usize::MAX)],
    ) {
        for h in [lru_histogram(pages.iter().copied()), opt_histogram(&pages)] {
            let footprint = h.distinct() as usize;
            let size = footprint.saturating_add(extra);
            prop_assert_eq!(h.misses(size), h.distinct());
            prop_assert_eq!(h.misses(size), h.misses(footprint));
        }
    }

    /// SHARDS' error over every size up to the largest one is its error up to the footprint,
    /// found without visiting each size.
    #[test]
    fn shards_error_up_to_any_size_is_the_error_up_to_the_footprint(
        pages in prop::collection::vec(0u64..200, 1..400),
    ) {
        let h = lru_histogram(pages.iter().copied());
        let s = ShardsCurve::build(pages.iter().copied(), 0.5);
        let near = s.max_error(&h, 4 * h.distinct() as usize + 4);
        prop_assert_eq!(s.max_error(&h, usize::MAX), near);
    }
}
