//! The replacement issue's speed targets: a Zipf(α = 1.0) stream of 10 million requests over
//! 1 million pages, one thread, a cache of 10% of the footprint. Measures LRU, FIFO, CLOCK and
//! ARC on the stream in memory, decoding the stream from the binary page-number format (what
//! `vmsim policy` does before simulating), and Mattson's exact LRU curve for every size.
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use vmsim_analysis::mrc::LruStack;
use vmsim_core::replace::{AnyPolicy, PolicyKind};
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
    let frames = footprint / 10;
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
        PolicyKind::Arc,
    ] {
        g.bench_function(kind.name(), |b| {
            b.iter(|| {
                let mut p = AnyPolicy::new(kind, frames, &[], 0).unwrap();
                p.simulate(refs.iter().copied())
            })
        });
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
