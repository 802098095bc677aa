//! A `Simulation` against the obvious oracle: the same records handed one by one to a
//! `Machine` of the same kernel. Its report, its narration and its limit must agree with it.
use vmsim_core::config::MachineConfig;
use vmsim_core::event::Event;
use vmsim_core::kernel::{Kernel, LinuxConfig};
use vmsim_core::machine::Machine;
use vmsim_core::{AccessKind, PageSize, VirtAddr};
use vmsim_sim::{KernelChoice, KernelKind, ReplayOptions, RunReport, Simulation, Watch};
use vmsim_trace::{Format, TraceReader};

/// A text trace of `n` accesses by two processes on two CPUs over a few hundred pages, with
/// writes and fetches: enough to fault, walk, hit and switch context, and longer than a batch.
fn trace(n: u64) -> String {
    let mut s = String::new();
    let mut x = 0x2545_f491_4f6c_dd1du64;
    for i in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let kind = ["R", "W", "X"][(x % 3) as usize];
        let page = (x >> 8) % 300;
        let pid = 1 + (i / 700) % 2;
        let cpu = (i / 350) % 2;
        s.push_str(&format!(
            "{kind} {:#x} 8 pid={pid} cpu={cpu}\n",
            0x40_0000 + page * 4096 + (x >> 20) % 4088
        ));
    }
    s
}

fn reader(text: &str) -> TraceReader {
    TraceReader::from_reader(
        "t.txt",
        std::io::Cursor::new(text.to_string().into_bytes()),
        Some(Format::Text),
    )
    .unwrap()
}

/// The oracle: every record through `Machine::access`, one at a time.
fn oracle<K: Kernel>(
    mut m: Machine<K>,
    text: &str,
    cfg: &MachineConfig,
    limit: usize,
) -> RunReport {
    for line in text.lines().take(limit) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let kind = match f[0] {
            "R" => AccessKind::Read,
            "W" => AccessKind::Write,
            _ => AccessKind::Fetch,
        };
        let va = VirtAddr::new_unchecked(u64::from_str_radix(&f[1][2..], 16).unwrap());
        let pid: u32 = f[3][4..].parse().unwrap();
        let cpu: u16 = f[4][4..].parse().unwrap();
        m.access(cpu, pid, va, kind, 8, &mut ()).unwrap();
    }
    RunReport::new(&m, cfg, "t.txt")
}

fn json(r: &RunReport) -> serde_json::Value {
    serde_json::to_value(r).unwrap()
}

#[derive(Default)]
struct Narrated(Vec<(u64, Vec<Event>)>, Vec<u64>);

impl Watch for Narrated {
    fn explained(&mut self, index: u64, events: Vec<Event>) {
        self.0.push((index, events));
    }
    fn progress(&mut self, records: u64) {
        self.1.push(records);
    }
}

fn config() -> MachineConfig {
    let mut cfg = MachineConfig::preset("zen4").unwrap();
    cfg.cpus = 2;
    cfg
}

#[test]
fn linux_replay_matches_access_by_access() {
    let (text, cfg) = (trace(5000), config());
    let mut sim =
        Simulation::new(cfg.clone(), KernelChoice::Linux(LinuxConfig::default())).unwrap();
    let n = sim
        .replay(reader(&text), ReplayOptions::default(), &mut ())
        .unwrap();
    assert_eq!(n, 5000);
    let want = oracle(
        Machine::linux(&cfg, LinuxConfig::default()).unwrap(),
        &text,
        &cfg,
        5000,
    );
    let got = sim.report("t.txt");
    assert_eq!(json(&got), json(&want));
    assert_eq!(got.kernel, "linux");
    assert!(got.faults.minor > 0 && got.hw.walks > 0 && got.context_switches > 0);
    assert_eq!(got.to_string(), want.to_string());
}

#[test]
fn demand_zero_replay_matches_access_by_access_with_a_limit() {
    let (text, mut cfg) = (trace(3000), config());
    cfg.page_size = PageSize::SIZE_2M;
    let kernel = KernelChoice::resolve(None, &cfg, LinuxConfig::default()).unwrap();
    assert_eq!(kernel.kind(), KernelKind::DemandZero);
    let mut sim = Simulation::new(cfg.clone(), kernel).unwrap();
    let opts = ReplayOptions {
        limit: Some(2049),
        explain: 0,
    };
    assert_eq!(sim.replay(reader(&text), opts, &mut ()).unwrap(), 2049);
    let want = oracle(Machine::from_config(&cfg).unwrap(), &text, &cfg, 2049);
    assert_eq!(json(&sim.report("t.txt")), json(&want));
    assert_eq!(sim.report("t.txt").kernel, "demand-zero");
}

#[test]
fn narration_numbers_the_first_records_across_batches_and_changes_nothing() {
    let (text, cfg) = (trace(3000), config());
    let mut plain = Simulation::new(cfg.clone(), KernelChoice::DemandZero).unwrap();
    plain
        .replay(reader(&text), ReplayOptions::default(), &mut ())
        .unwrap();
    let mut told = Simulation::new(cfg, KernelChoice::DemandZero).unwrap();
    let mut watch = Narrated::default();
    let opts = ReplayOptions {
        limit: None,
        explain: 1500,
    };
    told.replay(reader(&text), opts, &mut watch).unwrap();
    let indices: Vec<u64> = watch.0.iter().map(|(i, _)| *i).collect();
    assert_eq!(indices, (1..=1500).collect::<Vec<_>>());
    assert!(watch
        .0
        .iter()
        .all(|(_, e)| matches!(e.first(), Some(Event::Access { .. }))));
    assert_eq!(watch.1.last(), Some(&3000));
    assert!(watch.1.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(json(&told.report("t")), json(&plain.report("t")));
}

#[test]
fn an_address_outside_the_machine_is_refused_with_its_line() {
    let cfg = MachineConfig::preset("teaching").unwrap();
    let mut sim = Simulation::new(cfg, KernelChoice::DemandZero).unwrap();
    let err = sim
        .replay(
            reader("R 0x10\nR 0x7fff00000000\n"),
            ReplayOptions::default(),
            &mut (),
        )
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("t.txt:2:"), "{err}");
}

#[test]
fn a_cloned_simulation_goes_on_like_the_original_and_apart_from_it() {
    let text = trace(6000);
    let lines: Vec<&str> = text.lines().collect();
    let (head, tail) = (
        lines[..3000].join("\n") + "\n",
        lines[3000..].join("\n") + "\n",
    );
    let linux = LinuxConfig {
        swap_pages: 1024,
        ..Default::default()
    };
    // 640K of RAM (160 frames) under 300 pages: the Linux kernel reclaims and swaps.
    for (kernel, ram) in [
        (KernelChoice::Linux(linux), 640 << 10),
        (KernelChoice::DemandZero, 64 << 20),
    ] {
        let mut cfg = config();
        cfg.memory = ram;
        let run = |sim: &mut Simulation, text: &str| {
            sim.replay(reader(text), ReplayOptions::default(), &mut ())
                .unwrap()
        };
        let is_linux = kernel.kind() == KernelKind::Linux;
        let mut a = Simulation::new(cfg.clone(), kernel.clone()).unwrap();
        run(&mut a, &head);
        let mut b = a.clone();
        let at_clone = json(&a.report("t"));
        run(&mut b, &tail);
        assert_eq!(
            json(&a.report("t")),
            at_clone,
            "the clone's run changed the original"
        );
        assert_ne!(json(&b.report("t")), at_clone);
        run(&mut a, &tail);
        assert_eq!(json(&a.report("t")), json(&b.report("t")));
        let mut whole = Simulation::new(cfg, kernel).unwrap();
        run(&mut whole, &text);
        assert_eq!(json(&whole.report("t")), json(&a.report("t")));
        if is_linux {
            assert!(json(&a.report("t"))["swap"]["outs"].as_u64().unwrap() > 0);
        }
    }
}
