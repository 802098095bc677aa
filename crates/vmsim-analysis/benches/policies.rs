//! The replacement issues' speed targets: a Zipf(α = 1.0) stream of 10 million requests over
//! 1 million pages, one thread, caches of 1% and 10% of the footprint. Measures every policy
//! compared with libCacheSim (`benches/libcachesim_side_by_side.py`) through the policy grid
//! that `vmsim policy` runs (OPT: its look-ahead log built and simulated), decoding the stream
//! from the binary page-number format, and Mattson's exact LRU curve for every size.
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use vmsim_analysis::mrc::LruStack;
use vmsim_analysis::policy_grid::{self, Cell};
use vmsim_core::replace::PolicyKind;
use vmsim_core::PageSize;
use vmsim_trace::synth::{Generator, Workload};
use vmsim_trace::{Format, PageRef, TraceReader, TraceWriter};

const N: usize = 10_000_000;

fn zipf() -> Vec<PageRef> {
    let w: Workload = "zipf:pages=1M,alpha=1.0".parse().unwrap();
    Generator::new(&w, 1).take(N).collect()
}

fn bench(c: &mut Criterion) {
    let refs = zipf();
    let footprint = {
        let mut s = LruStack::new();
        refs.iter().for_each(|&(p, _)| {
            let _ = s.access(p);
        });
        s.histogram().distinct() as usize
    };
    let mut w = TraceWriter::new(Vec::new(), Format::Pgt).unwrap();
    refs.iter().for_each(|&r| w.write_page(r).unwrap());
    let pgt = std::sync::Arc::new(w.finish().unwrap());

    let mut g = c.benchmark_group("zipf_10m");
    g.throughput(Throughput::Elements(N as u64));
    g.sample_size(10);
    for kind in [
        PolicyKind::Lru,
        PolicyKind::Fifo,
        PolicyKind::Clock,
        PolicyKind::Sieve,
        PolicyKind::S3Fifo,
        PolicyKind::TwoQ,
        PolicyKind::Arc,
        PolicyKind::Lfu,
        PolicyKind::Lirs,
        PolicyKind::Opt,
    ] {
        for pct in [1, 10] {
            let cells = [Cell {
                policy: kind,
                frames: footprint * pct / 100,
            }];
            g.bench_function(format!("{}_{pct}pct", kind.name()), |b| {
                b.iter(|| policy_grid::run_refs(&cells, &refs, 0, 1).unwrap())
            });
        }
    }
    g.bench_function("decode_pgt", |b| {
        b.iter(|| {
            let bytes = std::io::Cursor::new(ArcBytes(pgt.clone()));
            let mut r = TraceReader::from_reader("z.pgt", bytes, None).unwrap();
            let mut buf = Vec::with_capacity(1 << 14);
            let mut n = 0;
            while r.read_pages(PageSize::SIZE_4K, &mut buf).unwrap() > 0 {
                n += buf.len();
            }
            n
        })
    });
    g.bench_function("mattson_lru_all_sizes", |b| {
        b.iter(|| {
            let mut s = LruStack::new();
            refs.iter().for_each(|&(p, _)| {
                let _ = s.access(p);
            });
            s.into_histogram().distinct()
        })
    });
    g.finish();
}

/// Shared bytes, so each decoding iteration does not first copy 80 MB.
struct ArcBytes(std::sync::Arc<Vec<u8>>);

impl AsRef<[u8]> for ArcBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
