//! The radix model against the kernel: fresh regions mapped in this process in known patterns
//! must change the model's PTE+PMD+PUD table pages by exactly as much as they change `VmPTE`,
//! and by the hand-counted amount. One test function, so no other test thread maps memory
//! meanwhile.
#![cfg(target_os = "linux")]
use vmsim_linux::inspect::{inspect, Inspection, Target};
use vmsim_linux::sys::{is_root, Mapping, PAGE};

const MIB2: u64 = 2 << 20;
const GIB: u64 = 1 << 30;
/// 512 GiB: the span of one top-level entry, so each pattern gets PUD, PMD and PTE tables of
/// its own.
const SLOT: u64 = 512 * GIB;

fn snapshot() -> Inspection {
    inspect(Target::SelfProcess, false).expect("inspect self")
}

/// A 512 GiB-aligned slot no area touches.
fn free_slot(after: u64) -> u64 {
    let s = snapshot();
    let mut base = after.div_ceil(SLOT) * SLOT;
    while s
        .areas
        .iter()
        .any(|a| a.start < base + SLOT && a.end > base)
    {
        base += SLOT;
    }
    base
}

fn thp_enabled() -> bool {
    std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled")
        .map(|s| s.contains("[always]") || s.contains("[madvise]"))
        .unwrap_or(false)
}

/// Maps and touches one pattern, returns (model change, VmPTE change in pages, the mappings,
/// the inspection after).
fn measure(map: impl FnOnce() -> Vec<Mapping>) -> (i64, i64, Vec<Mapping>, Inspection) {
    let before = snapshot();
    let maps = map();
    let after = snapshot();
    let model = after.model_table_pages.vmpte_pages() as i64
        - before.model_table_pages.vmpte_pages() as i64;
    let kernel = (after.vmpte_kib as i64 - before.vmpte_kib as i64) / 4;
    (model, kernel, maps, after)
}

#[test]
fn model_table_pages_change_exactly_as_vmpte() {
    let mut base = free_slot(16 << 40);

    // Dense: 1024 pages = two 2 MiB regions: 2 PTE + 1 PMD + 1 PUD.
    let (model, kernel, maps, after) = measure(|| {
        let m = Mapping::anonymous(Some(base), 1024 * PAGE, false).unwrap();
        for p in 0..1024 {
            m.write(p * PAGE, 1);
        }
        vec![m]
    });
    assert_eq!((model, kernel), (4, 4), "dense");
    // `inspect self` sees the mapping with its permissions and its RSS.
    let area = after
        .areas
        .iter()
        .find(|a| a.start == maps[0].addr())
        .expect("own mapping listed");
    assert_eq!(area.end - area.start, 1024 * PAGE as u64);
    assert_eq!(area.perms, "rw-p");
    assert_eq!(area.kib.rss, 4096);
    assert_eq!(area.pages.unwrap().present, 1024);
    drop(maps);

    // One page per 2 MiB, 16 of them: 16 PTE + 1 PMD + 1 PUD.
    base = free_slot(base + SLOT);
    let (model, kernel, _maps, _) = measure(|| {
        let m = Mapping::anonymous(Some(base), 32 << 20, false).unwrap();
        for k in 0..16 {
            m.write(k * MIB2 as usize, 1);
        }
        vec![m]
    });
    assert_eq!((model, kernel), (18, 18), "one page per 2 MiB");

    // One page per 1 GiB, 4 of them (separate one-page mappings): 4 PTE + 4 PMD + 1 PUD.
    base = free_slot(base + SLOT);
    let (model, kernel, _maps, _) = measure(|| {
        (0..4)
            .map(|k| {
                let m = Mapping::anonymous(Some(base + k * GIB), PAGE, false).unwrap();
                m.write(0, 1);
                m
            })
            .collect()
    });
    assert_eq!((model, kernel), (9, 9), "one page per 1 GiB");

    // Two transparent huge pages (when THP is on): 2 PMD leaves whose deposited PTE tables
    // the kernel counts, + 1 PMD + 1 PUD; as 4 KiB pages (THP off or no huge page free) the
    // same 4 pages.
    base = free_slot(base + SLOT);
    let (model, kernel, maps, after) = measure(|| {
        let m = Mapping::anonymous(Some(base), 2 * MIB2 as usize, false).unwrap();
        if thp_enabled() {
            m.advise_hugepage().unwrap();
        }
        m.write(0, 1);
        m.write(MIB2 as usize, 1);
        vec![m]
    });
    assert_eq!((model, kernel), (4, 4), "THP-backed");
    let area = after
        .areas
        .iter()
        .find(|a| a.start == maps[0].addr())
        .unwrap();
    let pages = area.pages.unwrap();
    if is_root() && area.kib.anon_huge_pages == 4096 {
        // As root the huge pages are found and mapped as 2 MiB leaves.
        assert_eq!(pages.in_huge_pages, 1024);
        assert_eq!(pages.present, 1024);
    }

    // What is visible depends on privilege, and what is not is named.
    let v = &after.visibility;
    if is_root() {
        assert!(v.frame_numbers && v.kpageflags, "{v:?}");
    } else {
        assert!(!v.frame_numbers && !v.kpageflags);
        assert!(v.notes.iter().any(|n| n.contains("CAP_SYS_ADMIN")));
        assert!(v.notes.iter().any(|n| n.contains("kpageflags")));
    }
}
