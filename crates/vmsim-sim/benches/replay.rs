//! End-to-end speed of replaying a compact (vmt) trace: decoding plus the machine's per-access
//! path on the zen4 preset, through `Simulation::replay`, the loop `vmsim run` runs. Two synthetic traces of 2^20 reads:
//! one that stays in 32 pages (L1 TLB hits) and one spread over 2^14 pages, 64 MiB (81% of
//! accesses miss the 3072-entry L2 TLB and walk). Pages are touched once before measuring, so no faults.
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::io::Cursor;
use vmsim_core::config::MachineConfig;
use vmsim_core::AccessKind;
use vmsim_sim::{KernelChoice, ReplayOptions, Simulation};
use vmsim_trace::{Format, Record, TraceReader, TraceWriter};

const N: u64 = 1 << 20;
const BASE: u64 = 0x7f00_0000_0000;

/// The trace bytes, leaked so that each iteration reads them in place (the reader needs
/// `'static`) instead of timing a copy of several MiB.
fn trace(pages: u64) -> &'static [u8] {
    let mut w = TraceWriter::new(Vec::new(), Format::Vmt).unwrap();
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..N {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let a = BASE + (x % pages) * 4096 + (x >> 58) * 8;
        w.write(&Record {
            size: 8,
            ..Record::new(AccessKind::Read, a)
        })
        .unwrap();
    }
    Box::leak(w.finish().unwrap().into_boxed_slice())
}

fn bench(c: &mut Criterion) {
    let mut cfg = MachineConfig::preset("zen4").unwrap();
    cfg.cpus = 1;
    let mut g = c.benchmark_group("replay_vmt");
    g.throughput(Throughput::Elements(N));
    g.sample_size(10);
    for (name, pages) in [("l1_hits_32_pages", 32u64), ("walks_16k_pages", 1 << 14)] {
        let bytes = trace(pages);
        let mut sim = Simulation::new(cfg.clone(), KernelChoice::DemandZero).unwrap();
        for p in 0..pages {
            sim.machine_mut()
                .access(
                    0,
                    1,
                    vmsim_core::VirtAddr::new_unchecked(BASE + p * 4096),
                    AccessKind::Write,
                    1,
                    &mut (),
                )
                .unwrap();
        }
        g.bench_function(name, |b| {
            b.iter(|| {
                let r = TraceReader::from_reader("bench", Cursor::new(bytes), None).unwrap();
                sim.replay(r, ReplayOptions::default(), &mut ()).unwrap()
            })
        });
    }
    // The trace `vmsim run` ships: a real program (GNU sort), TLB-hit dominated.
    let real: &[u8] = include_bytes!("../../vmsim-cli/data/default.vmt");
    let n = TraceReader::from_reader("bench", Cursor::new(real.to_vec()), None)
        .unwrap()
        .count() as u64;
    g.throughput(Throughput::Elements(n));
    g.bench_function("built_in_sort_trace", |b| {
        b.iter(|| {
            let mut sim = Simulation::new(cfg.clone(), KernelChoice::DemandZero).unwrap();
            let r = TraceReader::from_reader("bench", Cursor::new(real), None).unwrap();
            sim.replay(r, ReplayOptions::default(), &mut ()).unwrap()
        })
    });
    g.throughput(Throughput::Elements(N));
    g.bench_function("decode_only_vmt", |b| {
        let bytes = trace(1 << 20);
        let mut buf: Vec<Record> = Vec::with_capacity(1024);
        b.iter(|| {
            let mut r = TraceReader::from_reader("bench", Cursor::new(bytes), None).unwrap();
            let mut n = 0;
            while r.read_batch(&mut buf).unwrap() > 0 {
                n += buf.len();
            }
            n
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
