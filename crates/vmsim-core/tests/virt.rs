//! Memory virtualisation: the two-dimensional walk's reads against the hand-worked example of
//! `docs/virtualization.md`, nested translation against the composition of the guest's and the
//! host's tables, and shadow paging against nested paging.

use proptest::prelude::*;
use vmsim_core::config::MachineConfig;
use vmsim_core::event::{Event, Recorder};
use vmsim_core::hypervisor::{VirtConfig, VirtMode};
use vmsim_core::machine::{AccessOutcome, Machine};
use vmsim_core::phys::PhysMem;
use vmsim_core::radix::{self, Geometry};
use vmsim_core::translate::nested::Dimension;
use vmsim_core::{AccessKind, Level, PageSize, PagingMode, VirtAddr};

fn config(levels: u8, host_levels: u8, mode: VirtMode, host_page: PageSize) -> MachineConfig {
    let mut cfg = MachineConfig::preset("zen4").unwrap();
    cfg.memory = 1 << 30;
    cfg.paging = vmsim_core::config::PagingConfig::X86(if levels == 5 {
        PagingMode::Level5
    } else {
        PagingMode::Level4
    });
    cfg.virt = Some(VirtConfig {
        mode,
        host_levels,
        host_page_size: host_page,
        ..VirtConfig::default()
    });
    cfg.validate().unwrap();
    cfg
}

/// The reads of the last (successful) walk of one access, as (dimension, guest level, level).
fn last_walk(m: &mut Machine, va: u64, kind: AccessKind) -> Vec<(char, Option<Level>, Level)> {
    let mut rec = Recorder::default();
    let out = m
        .access(0, 1, VirtAddr::new_unchecked(va), kind, 8, &mut rec)
        .unwrap();
    assert!(matches!(out, AccessOutcome::Done(_)));
    let start = rec
        .events
        .iter()
        .rposition(|e| matches!(e, Event::WalkStart { .. }))
        .expect("the access walked");
    rec.events[start..]
        .iter()
        .filter_map(|e| match e {
            Event::NestedWalkRead(r) => Some(match r.dimension {
                Dimension::Guest => ('g', Some(r.level), r.level),
                Dimension::Host { guest_level } => ('h', guest_level, r.level),
            }),
            _ => None,
        })
        .collect()
}

/// The hand-worked walk of `docs/virtualization.md` under the marker `walk NAME`: one line per
/// read, `N  host|guest  GUEST-TABLE|page  [EPT] ENTRY`.
fn hand_worked(name: &str) -> Vec<(char, Option<Level>, Level)> {
    let doc = include_str!("../../../docs/virtualization.md");
    let start = doc
        .find(&format!("<!-- walk {name} -->"))
        .expect("the walk is in the docs");
    let block = doc[start..].split("```").nth(1).expect("its code block");
    let level = |s: &str| match s {
        "PML5" | "PML5E" => Level::Pml5,
        "PML4" | "PML4E" => Level::Pml4,
        "PDPT" | "PDPTE" => Level::Pdpt,
        "PD" | "PDE" => Level::Pd,
        "PT" | "PTE" => Level::Pt,
        other => panic!("no level {other}"),
    };
    block
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let guest = (w[2] != "page").then(|| level(w[2]));
            (w[1].chars().next().unwrap(), guest, level(w[w.len() - 1]))
        })
        .collect()
}

fn expected(guest: u8, host: u8) -> Vec<(char, Option<Level>, Level)> {
    match (guest, host) {
        (4, 4) => hand_worked("4-on-4"),
        (5, 5) => hand_worked("5-on-5"),
        _ => {
            // Mixed depths: the same rule as the hand-worked walks.
            let lv = |n: u8| Level::from_number(n).unwrap();
            let mut v = vec![];
            for g in (1..=guest).rev() {
                for h in (1..=host).rev() {
                    v.push(('h', Some(lv(g)), lv(h)));
                }
                v.push(('g', Some(lv(g)), lv(g)));
            }
            for h in (1..=host).rev() {
                v.push(('h', None, lv(h)));
            }
            v
        }
    }
}

#[test]
fn a_fresh_4k_page_reads_24_entries_4_on_4_and_35_5_on_5() {
    for (g, h, n) in [(4u8, 4u8, 24usize), (5, 5, 35), (4, 5, 29), (5, 4, 29)] {
        let mut cfg = config(g, h, VirtMode::Nested, PageSize::SIZE_4K);
        cfg.without_pwc();
        let mut m = Machine::from_config(&cfg).unwrap();
        // Another page first, so the fresh page's walk is not also the tables' first.
        last_walk(&mut m, 0x7f00_0000_0000, AccessKind::Read);
        let reads = last_walk(&mut m, 0x7f00_0040_3000, AccessKind::Write);
        assert_eq!(reads.len(), n, "{g}-on-{h}");
        assert_eq!(reads, expected(g, h), "{g}-on-{h}");
        let v = m.hypervisor().unwrap().stats();
        assert!(v.ept_violations > 0 && v.vm_exits == v.ept_violations);
    }
}

#[test]
fn caches_shorten_the_second_walk_and_2m_host_pages_shorten_host_walks() {
    let cfg = config(4, 4, VirtMode::Nested, PageSize::SIZE_4K);
    let mut m = Machine::from_config(&cfg).unwrap();
    last_walk(&mut m, 0x7f00_0000_0000, AccessKind::Read);
    // The neighbouring page: the guest PDE cache and the nested TLB leave one guest read and
    // one host walk for the new page's own guest-physical address (at most).
    let reads = last_walk(&mut m, 0x7f00_0000_1000, AccessKind::Read);
    assert!(reads.len() < 24 / 2, "{reads:?}");
    let mut cfg = config(4, 4, VirtMode::Nested, PageSize::SIZE_2M);
    cfg.without_pwc();
    let mut m = Machine::from_config(&cfg).unwrap();
    last_walk(&mut m, 0x7f00_0000_0000, AccessKind::Read);
    // 2 MiB host leaves: three EPT reads per host walk, 4·3 + 4 + 3.
    assert_eq!(
        last_walk(&mut m, 0x7f00_0040_3000, AccessKind::Read).len(),
        19
    );
}

fn compose(m: &Machine, va: u64) -> Option<u64> {
    let (root, _) = m.cpus()[0].cr3()?;
    let g = *m.geometry();
    let mut guest: PhysMem = m.mem().clone();
    let from = radix::WalkFrom {
        table: root,
        level: g.top(),
        rights: radix::ALL_RIGHTS,
    };
    let va = VirtAddr::new_unchecked(va);
    let leaf = radix::walk(&mut guest, &g, 52, va, from, |_| {})
        .unwrap_or_else(|n| match n {})
        .ok()?;
    let gpa = Geometry::phys(&g, leaf.pfn, leaf.size, va).as_u64();
    let (hpfn, _) = m.hypervisor()?.host().lookup(gpa)?;
    Some(hpfn.0 << 12 | gpa & 0xfff)
}

fn run(
    mode: VirtMode,
    host_page: PageSize,
    ops: &[(u64, bool)],
    tlb_small: bool,
) -> (Machine, Vec<u64>) {
    let mut cfg = config(4, 4, mode, host_page);
    if tlb_small {
        cfg.without_pwc();
        cfg.mmu.l1d = None;
        cfg.mmu.l2 = None;
    }
    let mut m = Machine::from_config(&cfg).unwrap();
    let mut pas = vec![];
    for &(va, w) in ops {
        let kind = if w {
            AccessKind::Write
        } else {
            AccessKind::Read
        };
        match m
            .access(0, 1, VirtAddr::new_unchecked(va), kind, 1, &mut ())
            .unwrap()
        {
            AccessOutcome::Done(t) => pas.push(t.pa.as_u64()),
            other => panic!("{other:?}"),
        }
    }
    (m, pas)
}

fn ops() -> impl Strategy<Value = Vec<(u64, bool)>> {
    // Three regions far apart (different PML4 and PDPT entries), a few hundred pages each.
    let addr = (0u64..3, 0u64..600, 0u64..4096).prop_map(|(r, p, o)| {
        [0x1000_0000u64, 0x7f12_0000_0000, 0x40_8000_0000][r as usize] + (p << 12) + o
    });
    prop::collection::vec((addr, any::<bool>()), 1..300)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Every access's host-physical address under nested paging is the guest's table composed
    /// with the host's, and shadow paging gives the very same addresses.
    #[test]
    fn nested_is_the_composition_and_shadow_agrees(
        ops in ops(),
        huge in any::<bool>(),
        small in any::<bool>(),
    ) {
        let host_page = if huge { PageSize::SIZE_2M } else { PageSize::SIZE_4K };
        let (nested, pas) = run(VirtMode::Nested, host_page, &ops, small);
        for (&(va, _), &pa) in ops.iter().zip(&pas) {
            prop_assert_eq!(compose(&nested, va), Some(pa), "va {:#x}", va);
        }
        let (shadow, spas) = run(VirtMode::Shadow, host_page, &ops, small);
        prop_assert_eq!(&spas, &pas);
        let (s, n) = (shadow.hypervisor().unwrap().stats(), nested.hypervisor().unwrap().stats());
        prop_assert_eq!(s.host_walk_refs, 0);
        prop_assert!(n.host_walk_refs > 0);
        prop_assert!(s.shadow_syncs > 0);
    }
}
