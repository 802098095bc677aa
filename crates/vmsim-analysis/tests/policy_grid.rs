//! The policy grid against simulating each cell alone over the whole trace in memory, and OPT's
//! compact look-ahead log against the `Opt` policy and a quadratic oracle.

use proptest::prelude::*;
use vmsim_analysis::opt_log::OptLog;
use vmsim_analysis::policy_grid::{self, Cell, PolicyGrid};
use vmsim_core::replace::{simulate_kind, PolicyKind, Stats};

/// Belady's MIN the slow way: at each miss with memory full, scan the future of every resident
/// page; never-used-again pages go first, the largest page number first.
fn opt_oracle(refs: &[(u64, bool)], frames: usize) -> Stats {
    let mut res: Vec<(u64, bool)> = Vec::new();
    let mut s = Stats::default();
    for (t, &(p, w)) in refs.iter().enumerate() {
        if let Some(e) = res.iter_mut().find(|e| e.0 == p) {
            e.1 |= w;
            s.hits += 1;
            continue;
        }
        s.misses += 1;
        if res.len() == frames {
            let next = |q: u64| {
                refs[t + 1..]
                    .iter()
                    .position(|r| r.0 == q)
                    .map_or((1u8, q), |d| (0u8, d as u64))
            };
            let (i, _) = res
                .iter()
                .enumerate()
                .max_by_key(|(_, e)| next(e.0))
                .expect("memory is full");
            let v = res.swap_remove(i);
            s.evictions += 1;
            s.dirty_evictions += u64::from(v.1);
        }
        res.push((p, w));
    }
    s
}

fn trace() -> impl Strategy<Value = Vec<(u64, bool)>> {
    prop::collection::vec(
        (
            prop_oneof![
                0u64..12,
                0u64..60,
                (1u64 << 22) - 4..(1u64 << 22) + 4,
                Just(u64::MAX)
            ],
            any::<bool>(),
        ),
        0..400,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn opt_log_equals_opt_policy_and_oracle(refs in trace(), frames in 1usize..70) {
        let mut log = OptLog::new();
        // Fed in uneven pieces, as batches come.
        for piece in refs.chunks(7) {
            log.extend(piece).expect("short trace");
        }
        let look = log.finish();
        let got = look.simulate(frames);
        let policy = simulate_kind(PolicyKind::Opt, frames, &refs, 0).expect("frames");
        prop_assert_eq!(got, policy);
        prop_assert_eq!(got, opt_oracle(&refs, frames));
    }

    #[test]
    fn grid_equals_each_cell_alone(
        refs in trace(),
        frames in prop::collection::vec(1usize..80, 1..4),
        batch in 1usize..50,
        jobs in 1usize..3,
    ) {
        let cells = Cell::grid(PolicyKind::ALL, &frames);
        let mut grid = PolicyGrid::new(&cells, 7, jobs).expect("cells");
        for piece in refs.chunks(batch) {
            grid.feed(piece).expect("short trace");
        }
        let got = grid.finish();
        prop_assert_eq!(got.accesses, refs.len() as u64);
        for (c, r) in cells.iter().zip(&got.results) {
            let alone = simulate_kind(c.policy, c.frames, &refs, 7).expect("frames");
            prop_assert_eq!(r.stats(), alone, "{} with {} frames", c.policy, c.frames);
            prop_assert_eq!((r.policy, r.frames), (c.policy, c.frames));
        }
    }
}

#[test]
fn frames_far_above_the_footprint_count_as_the_footprint() {
    let refs: Vec<(u64, bool)> = (0..5000u64)
        .map(|i| ((i * 7919) % 613, i % 3 == 0))
        .collect();
    let cells = Cell::grid(PolicyKind::ALL, &[usize::MAX, 1 << 40, 613]);
    let got = policy_grid::run_refs(&cells, &refs, 0, 2).expect("cells");
    for r in &got.results {
        assert_eq!((r.misses, r.evictions), (613, 0), "{}", r.policy);
    }
}

#[test]
fn zero_frames_is_an_error() {
    let cells = Cell::grid(&[PolicyKind::Lru, PolicyKind::Opt], &[4, 0]);
    let err = policy_grid::run_pages(&cells, &[1, 2, 3], 0, 1).expect_err("zero frames");
    assert_eq!(err.to_string(), "the number of frames must be at least 1");
}

#[test]
fn results_serialise_as_vmsim_policy_json() {
    let cells = Cell::grid(&[PolicyKind::Lru], &[2]);
    let got = policy_grid::run_pages(&cells, &[1, 2, 1, 3, 1, 2], 0, 1).expect("cells");
    let v = serde_json::to_value(&got.results).expect("json");
    assert_eq!(
        v,
        serde_json::json!([{"policy": "lru", "frames": 2, "hits": 2, "misses": 4,
            "miss_ratio": 4.0 / 6.0, "evictions": 2, "dirty_evictions": 0}])
    );
}
