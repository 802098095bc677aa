//! Speed of the per-access path (TLB lookups, walks, A/D updates) on the zen4 preset, with the
//! observer off. Accesses are pre-faulted so the kernel is out of the loop.
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use vmsim_core::config::MachineConfig;
use vmsim_core::kernel::LinuxConfig;
use vmsim_core::machine::Machine;
use vmsim_core::{AccessKind, VirtAddr};

const N: usize = 1 << 16;

fn addresses(pages: u64, seed: u64) -> Vec<VirtAddr> {
    // xorshift: a fixed pseudo-random page order, with varied offsets inside each page.
    let mut x = seed | 1;
    (0..N)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            VirtAddr::new_unchecked(0x7f00_0000_0000 + (x % pages) * 4096 + (x >> 52) * 8)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut cfg = MachineConfig::preset("zen4").unwrap();
    cfg.cpus = 1;
    let mut g = c.benchmark_group("access");
    g.throughput(Throughput::Elements(N as u64));
    for (name, pages) in [("l1_hit_32_pages", 32u64), ("walk_1m_pages", 1 << 20)] {
        let mut m = Machine::from_config(&cfg).unwrap();
        for p in 0..pages {
            let va = VirtAddr::new_unchecked(0x7f00_0000_0000 + p * 4096);
            m.access(0, 1, va, AccessKind::Write, 8, &mut ()).unwrap();
        }
        let addrs = addresses(pages, 0x9e37_79b9_7f4a_7c15);
        g.bench_function(name, |b| {
            b.iter(|| {
                for &a in &addrs {
                    black_box(m.access(0, 1, a, AccessKind::Read, 8, &mut ()).unwrap());
                }
            })
        });
    }
    g.finish();
}

/// The full path with the Linux-like kernel in the loop: random reads over 4096 pages with RAM
/// to spare, and with RAM for half of them (every other access a major fault and an eviction).
fn kernel(c: &mut Criterion) {
    let mut cfg = MachineConfig::preset("zen4").unwrap();
    cfg.cpus = 1;
    let pages = 4096u64;
    let mut g = c.benchmark_group("kernel");
    g.throughput(Throughput::Elements(N as u64));
    g.sample_size(10);
    for (name, ram_pages) in [("no_pressure", 4 * pages), ("heavy_reclaim", pages / 2)] {
        cfg.memory = ram_pages * 4096;
        let linux = LinuxConfig {
            swap_pages: 2 * pages as u32,
            swap_readahead: 0,
            ..LinuxConfig::default()
        };
        let mut m = Machine::linux(&cfg, linux).unwrap();
        for p in 0..pages {
            let va = VirtAddr::new_unchecked(0x7f00_0000_0000 + p * 4096);
            m.access(0, 1, va, AccessKind::Write, 8, &mut ()).unwrap();
        }
        let addrs = addresses(pages, 0x2545_f491_4f6c_dd1d);
        g.bench_function(name, |b| {
            b.iter(|| {
                for &a in &addrs {
                    black_box(m.access(0, 1, a, AccessKind::Read, 8, &mut ()).unwrap());
                }
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench, kernel);
criterion_main!(benches);
