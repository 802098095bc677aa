//! Replay under a hypervisor against native replay, on the trace of `replay.rs` that stays in
//! 32 pages (every access an L1 TLB hit once warm) and on the one spread over 2^14 pages that
//! walks: the TLB-hit path is meant to cost the same with or without nested paging (a hit
//! holds gVA→hPA, so the host is out of the loop), while walks pay the second dimension.
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::io::Cursor;
use vmsim_core::config::MachineConfig;
use vmsim_core::hypervisor::{VirtConfig, VirtMode};
use vmsim_core::AccessKind;
use vmsim_sim::{KernelChoice, ReplayOptions, Simulation};
use vmsim_trace::{Format, Record, TraceReader, TraceWriter};

const N: u64 = 1 << 20;
const BASE: u64 = 0x7f00_0000_0000;

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
    let mut g = c.benchmark_group("replay_virt");
    g.throughput(Throughput::Elements(N));
    g.sample_size(10);
    for (trace_name, pages) in [("l1_hits_32_pages", 32u64), ("walks_16k_pages", 1 << 14)] {
        let bytes = trace(pages);
        for mode in [VirtMode::None, VirtMode::Nested, VirtMode::Shadow] {
            let mut cfg = MachineConfig::preset("zen4").unwrap();
            cfg.cpus = 1;
            cfg.memory = 1 << 30;
            if mode != VirtMode::None {
                cfg.virt = Some(VirtConfig {
                    mode,
                    ..VirtConfig::default()
                });
            }
            let mut sim = Simulation::new(cfg, KernelChoice::DemandZero).unwrap();
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
            g.bench_function(format!("{trace_name}/{}", mode.name()), |b| {
                b.iter(|| {
                    let r = TraceReader::from_reader("bench", Cursor::new(bytes), None).unwrap();
                    sim.replay(r, ReplayOptions::default(), &mut ()).unwrap()
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
