//! The translation path checked against numbers derived from first principles, and against an
//! oracle (a hash map from page to frame and rights) under random operation sequences.

use proptest::prelude::*;
use std::collections::HashMap;
use vmsim_core::config::MachineConfig;
use vmsim_core::event::{Fault, TlbLevel};
use vmsim_core::machine::Machine;
use vmsim_core::mmu::{Mmu, MmuConfig};
use vmsim_core::phys::PhysMem;
use vmsim_core::radix::{Geometry, RadixTable, WalkFault};
use vmsim_core::tlb::{Pcid, TlbArrayConfig, TlbConfig};
use vmsim_core::{AccessKind, PageSize, PagingMode, Pfn, PteFlags, VirtAddr};

fn fa_lru(entries: u32, sizes: &[&str]) -> TlbConfig {
    TlbConfig {
        arrays: vec![TlbArrayConfig {
            sets: 1,
            ways: entries,
            page_sizes: sizes.iter().map(|s| s.parse().unwrap()).collect(),
            replacement: vmsim_core::tlb::Replacement::Lru,
        }],
    }
}

fn machine_toml(extra: &str) -> MachineConfig {
    let text = format!(
        "name = \"test\"\ncpus = 1\npaging = \"4-level\"\npage_size = \"4K\"\nmemory = \"64G\"\n{extra}"
    );
    MachineConfig::from_toml(&text).unwrap()
}

fn va(x: u64) -> VirtAddr {
    VirtAddr::new_unchecked(x)
}

#[test]
fn one_page_per_2m_region_across_2g_allocates_exact_tables() {
    let cfg = MachineConfig::preset("zen4").unwrap();
    let mut m = Machine::from_config(&cfg).unwrap();
    let start = 5u64 << 30; // 1 GiB aligned
    for i in 0..1024u64 {
        m.access(
            0,
            1,
            va(start + i * (2 << 20) + 64),
            AccessKind::Read,
            8,
            &mut (),
        )
        .unwrap();
    }
    // 1024 PTs, 2 PDs (2 GiB = 2 PDPT entries), 1 PDPT, 1 PML4.
    assert_eq!(m.table_pages(), [1024, 2, 1, 1, 0]);
    assert_eq!(m.stats().demand_zero, 1024);
}

#[test]
fn cyclic_sweep_of_65_pages_defeats_64_entry_lru_l1_but_not_l2() {
    let mut cfg = machine_toml("[mmu]\npcid = true\n");
    cfg.mmu.l1d = Some(fa_lru(64, &["4K"]));
    cfg.mmu.l2 = Some(TlbConfig {
        arrays: vec![TlbArrayConfig {
            sets: 128,
            ways: 12,
            page_sizes: vec![PageSize::SIZE_4K],
            replacement: vmsim_core::tlb::Replacement::Lru,
        }],
    });
    let mut m = Machine::from_config(&cfg).unwrap();
    let rounds = 10u64;
    for _ in 0..rounds {
        for p in 0..65u64 {
            m.access(
                0,
                1,
                va(0x10_0000_0000 + p * 4096),
                AccessKind::Read,
                4,
                &mut (),
            )
            .unwrap();
        }
    }
    let t = m.total();
    let l1 = &t.tlb[TlbLevel::L1d.index()];
    let l2 = &t.tlb[TlbLevel::L2.index()];
    // Every L1 lookup misses: LRU always evicts the page needed next.
    assert_eq!(l1.total_hits(), 0);
    // After the first round, every access hits the 1536-entry L2.
    assert_eq!(l2.total_hits(), (rounds - 1) * 65);
    // The first round walks twice per page (the fault, then the retry).
    assert_eq!(t.walks, 2 * 65);
}

#[test]
fn cyclic_sweep_of_64_pages_hits_l1_after_warm_up() {
    let mut cfg = machine_toml("");
    cfg.mmu.l1d = Some(fa_lru(64, &["4K"]));
    cfg.mmu.l2 = None;
    let mut m = Machine::from_config(&cfg).unwrap();
    for _ in 0..5 {
        for p in 0..64u64 {
            m.access(
                0,
                1,
                va(0x4000_0000 + p * 4096),
                AccessKind::Read,
                1,
                &mut (),
            )
            .unwrap();
        }
    }
    assert_eq!(m.total().tlb[TlbLevel::L1d.index()].total_hits(), 4 * 64);
}

#[test]
fn two_mib_pages_cut_walks_512_times_on_a_sequential_sweep() {
    let walks = |page: &str| {
        let mut cfg = MachineConfig::preset("zen4").unwrap();
        cfg.page_size = page.parse().unwrap();
        cfg.cpus = 1;
        let mut m = Machine::from_config(&cfg).unwrap();
        for a in (0..(256u64 << 20)).step_by(4096) {
            m.access(
                0,
                1,
                va(0x7f00_0000_0000 + a),
                AccessKind::Write,
                8,
                &mut (),
            )
            .unwrap();
        }
        m.total().walks
    };
    let (w4k, w2m) = (walks("4K"), walks("2M"));
    assert_eq!(w2m, 2 * 128); // 128 regions of 2 MiB, one faulting walk and one retry each
    assert_eq!(w4k, 512 * w2m);
}

/// An MMU over a hand-built page table, for tests that need global pages and explicit CR3
/// semantics.
fn mmu_with(pcid: bool) -> (Mmu, PhysMem, RadixTable, Geometry) {
    let mut mem = PhysMem::new(1 << 20);
    let g = Geometry::x86(PagingMode::Level4);
    let pt = RadixTable::new(g, &mut mem).unwrap();
    let cfg: MmuConfig = MmuConfig {
        l1i: None,
        l1d: Some(fa_lru(16, &["4K", "2M", "1G"])),
        l2: None,
        pwc: Default::default(),
        protection: Default::default(),
        pcid,
        global_pages: true,
        maxphyaddr: 52,
        latency: Default::default(),
    };
    let mmu = Mmu::new(0, g, &cfg, 1).unwrap();
    (mmu, mem, pt, g)
}

#[test]
fn cr3_write_without_pcid_flushes_only_non_global_entries() {
    let (mut mmu, mut mem, mut pt, _) = mmu_with(false);
    let user = PteFlags::WRITABLE | PteFlags::USER;
    pt.map(
        &mut mem,
        va(0x1000),
        PageSize::SIZE_4K,
        Pfn(100),
        user | PteFlags::GLOBAL,
    )
    .unwrap();
    pt.map(&mut mem, va(0x2000), PageSize::SIZE_4K, Pfn(101), user)
        .unwrap();
    mmu.write_cr3(pt.root(), Pcid::ZERO, false);
    for a in [0x1000, 0x2000] {
        mmu.translate(&mut mem, va(a), AccessKind::Read, &mut ())
            .unwrap();
    }
    let l1 = |m: &Mmu| m.stats().tlb[TlbLevel::L1d.index()];
    assert_eq!(l1(&mmu).total_misses(), 2);
    mmu.write_cr3(pt.root(), Pcid::ZERO, false);
    let g = mmu
        .translate(&mut mem, va(0x1000), AccessKind::Read, &mut ())
        .unwrap();
    assert_eq!(g.pa.as_u64(), 100 << 12);
    assert_eq!(l1(&mmu).total_hits(), 1, "the global entry survived");
    mmu.translate(&mut mem, va(0x2000), AccessKind::Read, &mut ())
        .unwrap();
    assert_eq!(
        l1(&mmu).total_misses(),
        3,
        "the non-global entry was flushed"
    );
}

#[test]
fn cr3_write_with_pcid_and_no_flush_keeps_entries() {
    let (mut mmu, mut mem, mut pt, _) = mmu_with(true);
    pt.map(
        &mut mem,
        va(0x2000),
        PageSize::SIZE_4K,
        Pfn(7),
        PteFlags::USER,
    )
    .unwrap();
    let p1 = Pcid::try_new(1).unwrap();
    mmu.write_cr3(pt.root(), p1, false);
    mmu.translate(&mut mem, va(0x2000), AccessKind::Read, &mut ())
        .unwrap();
    mmu.write_cr3(pt.root(), Pcid::try_new(2).unwrap(), false);
    mmu.write_cr3(pt.root(), p1, true);
    mmu.translate(&mut mem, va(0x2000), AccessKind::Read, &mut ())
        .unwrap();
    assert_eq!(mmu.stats().tlb[TlbLevel::L1d.index()].total_hits(), 1);
    // Without the no-flush bit the same switch flushes PCID 1.
    mmu.write_cr3(pt.root(), p1, false);
    mmu.translate(&mut mem, va(0x2000), AccessKind::Read, &mut ())
        .unwrap();
    assert_eq!(mmu.stats().tlb[TlbLevel::L1d.index()].total_hits(), 1);
}

#[test]
fn a_write_through_a_clean_entry_rewalks_to_set_dirty() {
    let (mut mmu, mut mem, mut pt, _) = mmu_with(false);
    pt.map(
        &mut mem,
        va(0x3000),
        PageSize::SIZE_4K,
        Pfn(9),
        PteFlags::USER | PteFlags::WRITABLE,
    )
    .unwrap();
    mmu.write_cr3(pt.root(), Pcid::ZERO, false);
    mmu.translate(&mut mem, va(0x3000), AccessKind::Read, &mut ())
        .unwrap();
    let (pte, _) = pt.lookup(&mem, va(0x3000)).unwrap();
    assert!(pte.has(PteFlags::ACCESSED) && !pte.has(PteFlags::DIRTY));
    mmu.translate(&mut mem, va(0x3008), AccessKind::Write, &mut ())
        .unwrap();
    assert_eq!(mmu.stats().dirty_assists, 1);
    assert!(pt.lookup(&mem, va(0x3000)).unwrap().0.has(PteFlags::DIRTY));
    mmu.translate(&mut mem, va(0x3010), AccessKind::Write, &mut ())
        .unwrap();
    assert_eq!(mmu.stats().dirty_assists, 1, "D is now cached");
    assert_eq!(mmu.stats().walks, 2);
}

#[test]
fn faults_report_cause_and_level() {
    let (mut mmu, mut mem, mut pt, _) = mmu_with(false);
    mmu.write_cr3(pt.root(), Pcid::ZERO, false);
    assert_eq!(
        mmu.translate(&mut mem, va(0x5000), AccessKind::Read, &mut ()),
        Err(Fault::Walk(WalkFault::NotPresent {
            level: vmsim_core::Level::Pml4
        }))
    );
    assert_eq!(
        mmu.translate(&mut mem, va(0x8000_0000_0000), AccessKind::Read, &mut ()),
        Err(Fault::NonCanonical)
    );
    pt.map(
        &mut mem,
        va(0x5000),
        PageSize::SIZE_4K,
        Pfn(3),
        PteFlags::USER | PteFlags::NO_EXECUTE,
    )
    .unwrap();
    let e = mmu.translate(&mut mem, va(0x5000), AccessKind::Fetch, &mut ());
    assert!(matches!(
        e,
        Err(Fault::Protection {
            level: vmsim_core::Level::Pt,
            cause: vmsim_core::protection::ProtectionFault::NoExecute
        })
    ));
    let e = mmu.translate(&mut mem, va(0x5000), AccessKind::Write, &mut ());
    assert!(matches!(e, Err(Fault::Protection { .. })));
    assert_eq!(mmu.stats().faults(), 4);
}

#[derive(Debug, Clone)]
enum Op {
    Map {
        page: u64,
        w: bool,
        u: bool,
        nx: bool,
        huge: bool,
    },
    Unmap {
        page: u64,
    },
    Protect {
        page: u64,
        w: bool,
        u: bool,
        nx: bool,
    },
    Access {
        page: u64,
        kind: AccessKind,
    },
    SwitchPcid {
        pcid: u16,
    },
}

fn op() -> impl Strategy<Value = Op> {
    // 24 pages spread over two 2 MiB regions and a distant one, so tables are shared and freed.
    let page = prop_oneof![0u64..8, 512u64..520, (1u64 << 27)..(1u64 << 27) + 8];
    prop_oneof![
        (
            page.clone(),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            prop::bool::weighted(0.1)
        )
            .prop_map(|(page, w, u, nx, huge)| Op::Map {
                page,
                w,
                u,
                nx,
                huge
            }),
        page.clone().prop_map(|page| Op::Unmap { page }),
        (page.clone(), any::<bool>(), any::<bool>(), any::<bool>())
            .prop_map(|(page, w, u, nx)| Op::Protect { page, w, u, nx }),
        (
            page,
            prop_oneof![
                Just(AccessKind::Read),
                Just(AccessKind::Write),
                Just(AccessKind::Fetch)
            ]
        )
            .prop_map(|(page, kind)| Op::Access { page, kind }),
        (1u16..4).prop_map(|pcid| Op::SwitchPcid { pcid }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    /// The MMU (TLBs, page-walk caches, walker) never returns a stale translation after the
    /// invalidation a mapping change demands, and never misses a permission fault.
    #[test]
    fn mmu_agrees_with_a_hash_map_oracle(ops in prop::collection::vec(op(), 1..200), pcid in any::<bool>()) {
        let mut mem = PhysMem::new(1 << 22);
        let g = Geometry::x86(PagingMode::Level4);
        let mut pt = RadixTable::new(g, &mut mem).unwrap();
        let cfg = MachineConfig::preset("skylake").unwrap();
        let mut mcfg = cfg.mmu.clone();
        mcfg.pcid = pcid;
        let mut mmu = Mmu::new(0, g, &mcfg, 7).unwrap();
        mmu.write_cr3(pt.root(), Pcid::try_new(1).unwrap(), false);
        // Oracle: 4 KiB page number -> (frame of that 4 KiB page, writable, user, nx).
        let mut oracle: HashMap<u64, (u64, bool, bool, bool)> = HashMap::new();
        // Which mappings are 2 MiB pages: first page -> frame.
        let mut huge: HashMap<u64, u64> = HashMap::new();
        let mut next_frame = 1u64 << 20;
        for op in ops {
            match op {
                Op::Map { page, w, u, nx, huge: h } => {
                    let mut f = PteFlags::empty();
                    if w { f |= PteFlags::WRITABLE; }
                    if u { f |= PteFlags::USER; }
                    if nx { f |= PteFlags::NO_EXECUTE; }
                    if h {
                        let base = page & !511;
                        if (base..base + 512).any(|p| oracle.contains_key(&p)) { continue; }
                        let frame = next_frame.next_multiple_of(512);
                        next_frame = frame + 512;
                        if pt.map(&mut mem, va(base << 12), PageSize::SIZE_2M, Pfn(frame), f).is_ok() {
                            for i in 0..512 { oracle.insert(base + i, (frame + i, w, u, nx)); }
                            huge.insert(base, frame);
                        }
                    } else {
                        if oracle.contains_key(&page) { continue; }
                        let frame = next_frame;
                        next_frame += 1;
                        let r = pt.map(&mut mem, va(page << 12), PageSize::SIZE_4K, Pfn(frame), f);
                        prop_assert!(r.is_ok(), "{r:?}");
                        oracle.insert(page, (frame, w, u, nx));
                    }
                }
                Op::Unmap { page } => {
                    match pt.unmap(&mut mem, va(page << 12)) {
                        Ok(u) => {
                            mmu.invlpg(u.flush.va);
                            let first = u.flush.va.as_u64() >> 12;
                            let n = u.size.bytes() >> 12;
                            for p in first..first + n { oracle.remove(&p); }
                            huge.remove(&first);
                        }
                        Err(_) => prop_assert!(!oracle.contains_key(&page)),
                    }
                }
                Op::Protect { page, w, u, nx } => {
                    let mut f = PteFlags::empty();
                    if w { f |= PteFlags::WRITABLE; }
                    if u { f |= PteFlags::USER; }
                    if nx { f |= PteFlags::NO_EXECUTE; }
                    match pt.protect(&mut mem, va(page << 12), f) {
                        Ok(fl) => {
                            mmu.invlpg(fl.va);
                            let first = fl.va.as_u64() >> 12;
                            for p in first..first + (fl.size.bytes() >> 12) {
                                if let Some(e) = oracle.get_mut(&p) { *e = (e.0, w, u, nx); }
                            }
                        }
                        Err(_) => prop_assert!(!oracle.contains_key(&page)),
                    }
                }
                Op::SwitchPcid { pcid } => {
                    // The same address space under another PCID. INVLPG only reaches the
                    // current PCID, so a kernel must flush a PCID when it reuses it: the
                    // switch here always flushes, as Linux does for a PCID whose generation
                    // is out of date.
                    mmu.write_cr3(pt.root(), Pcid::try_new(pcid).unwrap(), false);
                }
                Op::Access { page, kind } => {
                    let got = mmu.translate(&mut mem, va((page << 12) | 0x18), kind, &mut ());
                    match oracle.get(&page) {
                        None => prop_assert!(matches!(got, Err(Fault::Walk(WalkFault::NotPresent { .. }))), "{got:?}"),
                        Some(&(frame, w, u, nx)) => {
                            let allowed = u && match kind {
                                AccessKind::Read => true,
                                AccessKind::Write => w,
                                AccessKind::Fetch => !nx,
                            };
                            if allowed {
                                prop_assert_eq!(got.map(|t| t.pa.as_u64()), Ok((frame << 12) | 0x18));
                            } else {
                                prop_assert!(matches!(got, Err(Fault::Protection { .. })), "{got:?}");
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The L1 fast path checks canonical form only on a miss; a non-canonical address that shares
/// every low bit with a cached page must still fault, right after a hit (last-hit shortcut)
/// and after another page was touched (full search).
#[test]
fn non_canonical_alias_of_a_cached_page_faults() {
    let (mut mmu, mut mem, mut pt, _) = mmu_with(false);
    mmu.write_cr3(pt.root(), Pcid::ZERO, false);
    for page in [0x7fff_ffff_f000, 0x1000] {
        pt.map(
            &mut mem,
            va(page),
            PageSize::SIZE_4K,
            Pfn(9),
            PteFlags::USER,
        )
        .unwrap();
    }
    let cached = 0x7fff_ffff_f008;
    mmu.translate(&mut mem, va(cached), AccessKind::Read, &mut ())
        .unwrap();
    for alias in [
        cached | 0xffff_0000_0000_0000,
        cached | 0x0001_0000_0000_0000,
    ] {
        assert_eq!(
            mmu.translate(&mut mem, va(alias), AccessKind::Read, &mut ()),
            Err(Fault::NonCanonical),
            "{alias:#x} right after the hit"
        );
        mmu.translate(&mut mem, va(0x1000), AccessKind::Read, &mut ())
            .unwrap();
        assert_eq!(
            mmu.translate(&mut mem, va(alias), AccessKind::Read, &mut ()),
            Err(Fault::NonCanonical),
            "{alias:#x} after another page"
        );
        mmu.translate(&mut mem, va(cached), AccessKind::Read, &mut ())
            .unwrap();
    }
    assert_eq!(mmu.stats().faults_non_canonical, 4);
}

/// A CPU's TLBs and page-walk caches are built when it first runs: a machine of 256 CPUs with
/// a 2^20-entry L2 TLB holds them for the one CPU a trace uses (building all of them took
/// about 165 MB a CPU). Invalid TLB configurations are still refused when the machine is made.
#[test]
fn cpus_build_their_tlbs_when_they_first_run() {
    let mut cfg = MachineConfig::preset("zen4").unwrap();
    cfg.cpus = 256;
    cfg.mmu.l2 = Some(TlbConfig {
        arrays: vec![TlbArrayConfig {
            sets: 65536,
            ways: 16,
            page_sizes: vec![PageSize::SIZE_4K, PageSize::SIZE_2M],
            replacement: vmsim_core::tlb::Replacement::Lru,
        }],
    });
    let mut m = Machine::from_config(&cfg).unwrap();
    assert!(m.cpus().iter().all(|c| c.tlb(TlbLevel::L2).is_none()));
    m.access(0, 1, va(0x40_1000), AccessKind::Read, 8, &mut ())
        .unwrap();
    m.access(0, 1, va(0x40_1000), AccessKind::Read, 8, &mut ())
        .unwrap();
    assert!(m.cpus()[0].tlb(TlbLevel::L2).is_some());
    assert!(m.cpus()[1..].iter().all(|c| c.tlb(TlbLevel::L1d).is_none()));
    assert_eq!(
        m.cpus()[0].stats().tlb[TlbLevel::L1d.index()].total_hits(),
        1
    );
    m.access(200, 1, va(0x40_1000), AccessKind::Read, 8, &mut ())
        .unwrap();
    assert!(m.cpus()[200].tlb(TlbLevel::L2).is_some());
    assert_eq!(
        m.cpus()
            .iter()
            .filter(|c| c.tlb(TlbLevel::L2).is_some())
            .count(),
        2
    );

    cfg.mmu.l2.as_mut().unwrap().arrays[0].ways = 0;
    assert!(Machine::from_config(&cfg).is_err());
}
