//! `vmsim malloc --ops N`'s default run: a generated workload (uniform 8-512-byte requests,
//! 60% allocations, random lifetimes, seed 0) replayed on a first-fit, address-ordered free
//! list over 64 KiB, with the heap measured after every operation, at 100 k and 300 k
//! operations. The measurement and the frees once walked or re-sorted the whole heap, so the
//! time per operation grew with the run; what still grows is the modelled first-fit search,
//! whose length the report counts.
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use vmsim_core::alloc::workload::{self, Generate, Lifetime};
use vmsim_core::alloc::{Fit, FreeList, ListOrder};

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("malloc_default_workload");
    g.sample_size(10);
    for n in [100_000, 300_000] {
        let ops = Generate {
            ops: n,
            sizes: "uniform:8-512".parse().unwrap(),
            alloc_fraction: 0.6,
            lifetime: Lifetime::Random,
            seed: 0,
        }
        .ops();
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(format!("{n}"), |b| {
            b.iter(|| {
                let mut f = FreeList::new(
                    0x10000,
                    64 << 10,
                    Fit::First,
                    ListOrder::Address,
                    false,
                    0,
                    None,
                );
                workload::replay(&mut f, &ops, |_, _| {})
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
