//! OPT's miss-ratio curve in one pass (`vmsim mrc`'s default grid: powers of two up to the
//! footprint) on uniform references over 100 k pages, at 100 k and 1 M references: ten times
//! the references should cost about ten times the time, not a hundred.
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use vmsim_analysis::opt_curve::opt_misses;
use vmsim_trace::synth::{Generator, Workload};

fn pages(n: usize) -> Vec<u64> {
    let w: Workload = "uniform:pages=100k".parse().unwrap();
    Generator::new(&w, 1).take(n).map(|r| r.0).collect()
}

fn grid(footprint: usize) -> Vec<usize> {
    let mut v: Vec<usize> = std::iter::successors(Some(1usize), |&x| x.checked_mul(2))
        .take_while(|&x| x < footprint)
        .collect();
    v.push(footprint);
    v
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("opt_curve_uniform_100k_pages");
    g.sample_size(10);
    for n in [100_000, 1_000_000] {
        let p = pages(n);
        let footprint = p.iter().collect::<std::collections::HashSet<_>>().len();
        let sizes = grid(footprint);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(format!("{n}"), |b| b.iter(|| opt_misses(&p, &sizes)));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
