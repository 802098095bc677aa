//! The Linux-like kernel under scenarios whose outcome follows from first principles, and a
//! property test that no data is ever lost and no frame leaked.
use proptest::prelude::*;
use std::collections::HashMap;
use vmsim_core::config::MachineConfig;
use vmsim_core::event::{Event, Recorder};
use vmsim_core::kernel::vma::Prot;
use vmsim_core::kernel::{
    Advice, Kernel, LinuxConfig, LinuxKernel, MmapRequest, Syscall, SyscallResult, VaRange,
};
use vmsim_core::machine::{AccessOutcome, Machine};
use vmsim_core::replace::ReclaimPolicy;
use vmsim_core::{AccessKind, VirtAddr};

const PAGE: u64 = 4096;

fn machine(ram: &str, cpus: u16, linux: LinuxConfig) -> Machine<LinuxKernel> {
    let mut cfg = MachineConfig::preset("zen4").unwrap();
    cfg.memory = vmsim_core::units::parse_bytes(ram).unwrap();
    cfg.cpus = cpus;
    Machine::linux(&cfg, linux).unwrap()
}

fn va(x: u64) -> VirtAddr {
    VirtAddr::new_unchecked(x)
}

/// `execve` of `image` as `pid`, without ASLR; its layout.
fn exec(
    m: &mut Machine<LinuxKernel>,
    pid: u32,
    image: vmsim_core::kernel::layout::Image,
) -> vmsim_core::kernel::layout::Layout {
    let call = Syscall::Exec {
        image,
        aslr: false,
        seed: 0,
    };
    match m.syscall(pid, call).unwrap() {
        SyscallResult::Exec(l) => l,
        other => panic!("exec returned {other:?}"),
    }
}

fn touch(m: &mut Machine<LinuxKernel>, pid: u32, addr: u64, kind: AccessKind) -> AccessOutcome {
    m.access(0, pid, va(addr), kind, 8, &mut ()).unwrap()
}

#[test]
fn two_passes_over_twice_ram_with_lru_fault_on_every_page_of_the_second() {
    let cfg = LinuxConfig {
        policy: "lru".parse().unwrap(),
        swap_pages: 8192,
        swap_readahead: 0,
        ..Default::default()
    };
    let mut m = machine("4M", 1, cfg); // 1024 frames
    let pages = 2048u64;
    let base = 0x10_0000_0000u64;
    for p in 0..pages {
        touch(&mut m, 1, base + p * PAGE, AccessKind::Write);
    }
    let after_first = m.kernel().stats();
    assert_eq!(after_first.demand_zero, pages);
    assert_eq!(after_first.major_faults, 0);
    for p in 0..pages {
        touch(&mut m, 1, base + p * PAGE, AccessKind::Write);
    }
    let s = m.kernel().stats();
    assert_eq!(
        s.major_faults, pages,
        "every page of the second pass is a major fault"
    );
    assert_eq!(s.swap_ins, pages);
    assert!(s.swap_outs >= pages);
}

#[test]
fn a_child_writing_half_of_its_parents_pages_copies_exactly_those() {
    let mut m = machine("64M", 2, LinuxConfig::default());
    let n = 64u64;
    let base = 0x7f00_0000_0000u64;
    m.syscall(
        1,
        Syscall::Mmap(MmapRequest {
            addr: Some(base),
            len: n * PAGE,
            prot: Prot::RW,
            shared: false,
            file: None,
        }),
    )
    .unwrap();
    for p in 0..n {
        touch(&mut m, 1, base + p * PAGE, AccessKind::Write);
    }
    m.syscall(1, Syscall::Fork { child: 2 }).unwrap();
    for p in 0..n / 2 {
        m.access(1, 2, va(base + p * PAGE), AccessKind::Write, 8, &mut ())
            .unwrap();
    }
    let s = m.kernel().stats();
    assert_eq!(s.cow_copies, n / 2);
    // The other half is still shared: reading it in the child faults nothing.
    let before = s.minor_faults + s.major_faults;
    for p in n / 2..n {
        m.access(1, 2, va(base + p * PAGE), AccessKind::Read, 8, &mut ())
            .unwrap();
    }
    // The child's first reads of shared pages walk into read-only PTEs: no faults.
    let s = m.kernel().stats();
    assert_eq!(s.minor_faults + s.major_faults, before);
    // The parent writing a page the child copied now owns it alone: reuse, no copy.
    touch(&mut m, 1, base, AccessKind::Write);
    let s = m.kernel().stats();
    assert_eq!((s.cow_copies, s.cow_reuses), (n / 2, 1));
    // Writing a still-shared page copies.
    touch(&mut m, 1, base + (n - 1) * PAGE, AccessKind::Write);
    assert_eq!(m.kernel().stats().cow_copies, n / 2 + 1);
}

#[test]
fn a_shared_file_mapping_read_by_two_processes_is_read_from_disk_once() {
    let cfg = LinuxConfig {
        file_readahead: 0,
        ..Default::default()
    };
    let mut m = machine("64M", 2, cfg);
    let pages = 40u64;
    let (a, b) = (0x6000_0000u64, 0x7000_0000u64);
    {
        let f = m.new_file();
        m.syscall(
            1,
            Syscall::Mmap(MmapRequest {
                addr: Some(a),
                len: pages * PAGE,
                prot: Prot::R,
                shared: true,
                file: Some((f, 0)),
            }),
        )
        .unwrap();
        m.syscall(
            2,
            Syscall::Mmap(MmapRequest {
                addr: Some(b),
                len: pages * PAGE,
                prot: Prot::R,
                shared: true,
                file: Some((f, 0)),
            }),
        )
        .unwrap();
    }
    for p in 0..pages {
        m.access(0, 1, va(a + p * PAGE), AccessKind::Read, 8, &mut ())
            .unwrap();
        m.access(1, 2, va(b + p * PAGE), AccessKind::Read, 8, &mut ())
            .unwrap();
    }
    let s = m.kernel().stats();
    assert_eq!(s.file_reads, pages);
    assert_eq!(s.major_faults, pages);
    assert_eq!(s.page_cache_hits, pages);
    assert_eq!(s.minor_faults, pages);
}

#[test]
fn readahead_turns_later_file_faults_minor() {
    let cfg = LinuxConfig {
        file_readahead: 7,
        ..Default::default()
    };
    let mut m = machine("64M", 1, cfg);
    let base = 0x6000_0000u64;
    {
        let f = m.new_file();
        m.syscall(
            1,
            Syscall::Mmap(MmapRequest {
                addr: Some(base),
                len: 64 * PAGE,
                prot: Prot::R,
                shared: false,
                file: Some((f, 0)),
            }),
        )
        .unwrap();
    }
    for p in 0..64 {
        touch(&mut m, 1, base + p * PAGE, AccessKind::Read);
    }
    let s = m.kernel().stats();
    // Every eighth page is read; the seven after it come from readahead.
    assert_eq!((s.file_reads, s.major_faults), (8, 8));
    assert_eq!(s.readahead_hits, 56);
}

/// A shootdown visits the CPUs that ran the process, by number: CPU 64 is not CPU 0 (a mask
/// indexed by `cpu % 64` counted an IPI to idle CPU 0 here).
#[test]
fn a_process_that_ran_only_on_cpu_64_is_shot_down_only_there() {
    let mut m = machine("64M", 65, LinuxConfig::default());
    let base = 0x7f00_0000_0000u64;
    for p in 0..2 {
        m.access(64, 1, va(base + p * PAGE), AccessKind::Write, 8, &mut ())
            .unwrap();
    }
    m.syscall(1, Syscall::Munmap(VaRange::pages(base, PAGE).unwrap()))
        .unwrap();
    assert_eq!(
        m.kernel().stats().shootdowns,
        0,
        "it runs on CPU 64, the only CPU that ran it"
    );
    m.access(64, 2, va(base), AccessKind::Write, 8, &mut ())
        .unwrap();
    m.syscall(
        1,
        Syscall::Munmap(VaRange::pages(base + PAGE, PAGE).unwrap()),
    )
    .unwrap();
    assert_eq!(
        m.kernel().stats().shootdowns,
        1,
        "CPU 64 now runs another process: one IPI, none to CPU 0"
    );
}

#[test]
fn munmap_of_the_middle_leaves_two_vmas_and_frees_the_emptied_tables() {
    let cfg = LinuxConfig {
        implicit_anon: false,
        ..Default::default()
    };
    let mut m = machine("64M", 1, cfg);
    let two_m = 2u64 << 20;
    let base = 0x4000_0000u64; // 1 GiB aligned: one PD covers all three regions
    m.syscall(
        1,
        Syscall::Mmap(MmapRequest {
            addr: Some(base),
            len: 3 * two_m,
            prot: Prot::RW,
            shared: false,
            file: None,
        }),
    )
    .unwrap();
    for p in 0..3 * two_m / PAGE {
        touch(&mut m, 1, base + p * PAGE, AccessKind::Write);
    }
    assert_eq!(m.table_pages(), [3, 1, 1, 1, 0]);
    let frames_before = m.mem().frames_in_use();
    m.syscall(
        1,
        Syscall::Munmap(VaRange::pages(base + two_m, two_m).unwrap()),
    )
    .unwrap();
    let vmas: Vec<(u64, u64)> = m
        .kernel()
        .vmas(1)
        .unwrap()
        .iter()
        .map(|v| (v.start, v.end))
        .collect();
    assert_eq!(
        vmas,
        vec![(base, base + two_m), (base + 2 * two_m, base + 3 * two_m)]
    );
    assert_eq!(m.table_pages(), [2, 1, 1, 1, 0]);
    // 512 data pages and one page table were freed.
    assert_eq!(frames_before - m.mem().frames_in_use(), 512 + 1);
    // The hole faults with SIGSEGV now.
    assert!(matches!(
        touch(&mut m, 1, base + two_m, AccessKind::Read),
        AccessOutcome::Segv(_)
    ));
}

#[test]
fn the_buddy_allocator_coalesces_back_after_every_process_exits() {
    let cfg = LinuxConfig {
        swap_pages: 4096,
        ..Default::default()
    };
    let mut m = machine("8M", 2, cfg);
    let start = m.mem().buddy().free_blocks();
    let start_used = m.mem().frames_in_use();
    for pid in 1..=3u32 {
        for p in 0..1500u64 {
            m.access(
                (pid % 2) as u16,
                pid,
                va(0x1000_0000 * pid as u64 + p * PAGE),
                AccessKind::Write,
                8,
                &mut (),
            )
            .unwrap();
        }
    }
    m.syscall(1, Syscall::Fork { child: 9 }).unwrap();
    for pid in [1u32, 2, 3, 9] {
        m.syscall(pid, Syscall::Exit).unwrap();
        m.deschedule(pid);
    }
    assert_eq!(m.kernel().resident_frames(), 0);
    assert_eq!(m.kernel().swap_used(), 0);
    assert_eq!(m.mem().frames_in_use(), start_used);
    assert_eq!(m.mem().buddy().free_blocks(), start);
}

#[test]
fn no_swap_means_the_oom_killer_takes_the_largest_process() {
    let cfg = LinuxConfig {
        swap_pages: 0,
        ..Default::default()
    };
    let mut m = machine("4M", 1, cfg);
    for p in 0..100u64 {
        touch(&mut m, 1, 0x1000_0000 + p * PAGE, AccessKind::Write);
    }
    let mut killed_at = None;
    for p in 0..2000u64 {
        if let AccessOutcome::Segv(_) = touch(&mut m, 2, 0x2000_0000 + p * PAGE, AccessKind::Write)
        {
            killed_at = Some(p);
            break;
        }
    }
    assert!(
        killed_at.is_some(),
        "process 2 outgrew memory and was killed"
    );
    assert_eq!(m.kernel().stats().oom_kills, 1);
    assert_eq!(m.kernel().oom_victims(), &[2]);
}

#[test]
fn stack_growth_and_segv() {
    let mut m = machine(
        "64M",
        1,
        LinuxConfig {
            implicit_anon: false,
            ..Default::default()
        },
    );
    let top = 0x7ffd_0000_0000u64;
    {
        let (k, mem, _) = m.parts();
        let mut stack =
            vmsim_core::kernel::vma::Vma::anon(top - 32 * PAGE, top, Prot::RW, "[stack]");
        stack.grows_down = true;
        k.add_vma(mem, 1, stack).unwrap();
    }
    // Just below the stack: grows.
    assert!(matches!(
        touch(&mut m, 1, top - 33 * PAGE + 8, AccessKind::Write),
        AccessOutcome::Done(_)
    ));
    assert_eq!(m.kernel().stats().stack_growths, 1);
    // Nowhere near any VMA: SIGSEGV.
    assert!(matches!(
        touch(&mut m, 1, 0x1234_0000, AccessKind::Read),
        AccessOutcome::Segv(_)
    ));
    // Writing a read-only mapping: SIGSEGV.
    m.syscall(
        1,
        Syscall::Mmap(MmapRequest {
            addr: Some(0x5000_0000),
            len: PAGE,
            prot: Prot::R,
            shared: false,
            file: None,
        }),
    )
    .unwrap();
    assert!(matches!(
        touch(&mut m, 1, 0x5000_0000, AccessKind::Read),
        AccessOutcome::Done(_)
    ));
    assert!(matches!(
        touch(&mut m, 1, 0x5000_0000, AccessKind::Write),
        AccessOutcome::Segv(_)
    ));
    assert_eq!(m.kernel().stats().segv, 2);
}

#[derive(Debug, Clone)]
enum Op {
    Write { pid: u32, page: u64 },
    Read { pid: u32, page: u64 },
    Fork { parent: u32 },
    Exit { pid: u32 },
    Munmap { pid: u32, page: u64, pages: u64 },
}

fn op() -> impl Strategy<Value = Op> {
    let pid = 1u32..5;
    let page = 0u64..96;
    prop_oneof![
        6 => (pid.clone(), page.clone()).prop_map(|(pid, page)| Op::Write { pid, page }),
        6 => (pid.clone(), page.clone()).prop_map(|(pid, page)| Op::Read { pid, page }),
        1 => pid.clone().prop_map(|parent| Op::Fork { parent }),
        1 => pid.clone().prop_map(|pid| Op::Exit { pid }),
        1 => (pid, page, 1u64..8).prop_map(|(pid, page, pages)| Op::Munmap { pid, page, pages }),
    ]
}

/// Runs `ops` under memory pressure with swap, COW and reclaim by `policy`: a page always reads
/// back the version last written to it by its process (or zero if never written), and once
/// every process has exited no frame and no swap slot is left in use.
fn no_loss_no_leak(
    ops: Vec<Op>,
    policy: ReclaimPolicy,
    readahead: u32,
) -> Result<(), TestCaseError> {
    let cfg = LinuxConfig {
        policy,
        swap_pages: 4096,
        swap_readahead: readahead,
        ..Default::default()
    };
    // 256 frames of RAM: four processes of up to 96 pages each keep reclaim busy.
    let mut m = machine("1M", 2, cfg);
    let start_used = m.mem().frames_in_use();
    let base = 0x10_0000_0000u64;
    // Model: (pid, page) -> last version written.
    let mut model: HashMap<(u32, u64), u64> = HashMap::new();
    let mut alive: Vec<u32> = Vec::new();
    let mut version = 0u64;
    let mut next_pid = 100u32;
    for op in ops {
        match op {
            Op::Write { pid, page } => {
                let a = va(base + page * PAGE);
                if let AccessOutcome::Done(_) = m
                    .access((pid % 2) as u16, pid, a, AccessKind::Write, 8, &mut ())
                    .unwrap()
                {
                    version += 1;
                    let (k, mem, _) = m.parts();
                    prop_assert!(
                        k.store(mem, pid, a, version),
                        "page not writable after a write"
                    );
                    model.insert((pid, page), version);
                    if !alive.contains(&pid) {
                        alive.push(pid);
                    }
                }
            }
            Op::Read { pid, page } => {
                let a = va(base + page * PAGE);
                if let AccessOutcome::Done(_) = m
                    .access((pid % 2) as u16, pid, a, AccessKind::Read, 8, &mut ())
                    .unwrap()
                {
                    if !alive.contains(&pid) {
                        alive.push(pid);
                    }
                    let got = m.kernel().load(m.mem(), pid, a);
                    prop_assert_eq!(got, Some(model.get(&(pid, page)).copied().unwrap_or(0)));
                }
            }
            Op::Fork { parent } => {
                if !alive.contains(&parent) {
                    continue;
                }
                let child = next_pid;
                next_pid += 1;
                m.syscall(parent, Syscall::Fork { child }).unwrap();
                let inherited: Vec<((u32, u64), u64)> = model
                    .iter()
                    .filter(|((p, _), _)| *p == parent)
                    .map(|((_, pg), v)| ((child, *pg), *v))
                    .collect();
                model.extend(inherited);
                alive.push(child);
            }
            Op::Exit { pid } => {
                let victim = if alive.is_empty() {
                    continue;
                } else {
                    alive[pid as usize % alive.len()]
                };
                m.syscall(victim, Syscall::Exit).unwrap();
                m.deschedule(victim);
                alive.retain(|&p| p != victim);
                model.retain(|(p, _), _| *p != victim);
            }
            Op::Munmap { pid, page, pages } => {
                if !alive.contains(&pid) {
                    continue;
                }
                m.syscall(
                    pid,
                    Syscall::Munmap(VaRange::pages(base + page * PAGE, pages * PAGE).unwrap()),
                )
                .unwrap();
                for p in page..page + pages {
                    model.remove(&(pid, p));
                }
            }
        }
        // OOM kills (there is swap, but it may fill) remove processes too.
        for v in m.kernel().oom_victims().to_vec() {
            alive.retain(|&p| p != v);
            model.retain(|(p, _), _| *p != v);
        }
    }
    for pid in alive.clone() {
        m.syscall(pid, Syscall::Exit).unwrap();
    }
    prop_assert_eq!(m.kernel().resident_frames(), 0);
    prop_assert_eq!(m.kernel().swap_used(), 0);
    // The zero page a read of an untouched page mapped stays the kernel's.
    let zero = m.kernel().zero_page_frames();
    prop_assert!(zero <= 1, "no THP here: {}", zero);
    prop_assert_eq!(m.mem().frames_in_use(), start_used + zero);
    prop_assert_eq!(m.kernel().processes(), 0);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// [`no_loss_no_leak`] with a policy picked at random from every policy of `replace/`.
    #[test]
    fn no_data_is_lost_and_no_frame_leaks(
        ops in prop::collection::vec(op(), 1..250),
        policy in prop::sample::select(ReclaimPolicy::all().collect::<Vec<_>>()),
        readahead in 0u32..4,
    ) {
        no_loss_no_leak(ops, policy, readahead)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8))]
    /// The same operations under every policy the kernel can reclaim with: none loses data or
    /// leaks a frame.
    #[test]
    fn every_replace_policy_reclaims_without_loss_or_leak(
        ops in prop::collection::vec(op(), 100..250),
    ) {
        for policy in ReclaimPolicy::all() {
            no_loss_no_leak(ops.clone(), policy, 2)?;
        }
    }
}

/// A break that rounds up past 2^64 is refused and changes nothing (it wrapped to 0 and
/// unmapped everything below the heap, text included).
#[test]
fn brk_to_the_last_address_is_refused() {
    let mut m = machine("64M", 1, LinuxConfig::default());
    let image = vmsim_core::kernel::layout::Image::default();
    let l = exec(&mut m, 1, image);
    let vmas = m.kernel().vmas(1).unwrap().len();
    {
        let e = m.syscall(1, Syscall::Brk(u64::MAX)).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "range {:#x}+{:#x} runs past the end of the address space",
                l.brk,
                u64::MAX - l.brk
            )
        );
    }
    assert_eq!(m.kernel().vmas(1).unwrap().len(), vmas);
    assert!(matches!(
        touch(&mut m, 1, l.text, AccessKind::Fetch),
        AccessOutcome::Done(_)
    ));
}

#[test]
fn exec_lays_out_a_process_like_linux_and_brk_and_madvise_work() {
    let mut m = machine(
        "64M",
        1,
        LinuxConfig {
            implicit_anon: false,
            ..Default::default()
        },
    );
    let image = vmsim_core::kernel::layout::Image::default();
    let l = exec(&mut m, 1, image);
    assert_eq!(l.text, 0x5555_5555_4000);
    // Code is fetchable, not writable.
    assert!(matches!(
        touch(&mut m, 1, l.text, AccessKind::Fetch),
        AccessOutcome::Done(_)
    ));
    assert!(matches!(
        touch(&mut m, 1, l.text, AccessKind::Write),
        AccessOutcome::Segv(_)
    ));
    // Data is writable, not executable.
    assert!(matches!(
        touch(&mut m, 1, l.data, AccessKind::Write),
        AccessOutcome::Done(_)
    ));
    assert!(matches!(
        touch(&mut m, 1, l.data, AccessKind::Fetch),
        AccessOutcome::Segv(_)
    ));
    // The stack top is usable, and grows.
    assert!(matches!(
        touch(&mut m, 1, l.stack_top - 8, AccessKind::Write),
        AccessOutcome::Done(_)
    ));
    assert!(matches!(
        touch(&mut m, 1, l.stack_top - (200 << 10), AccessKind::Write),
        AccessOutcome::Done(_)
    ));
    assert_eq!(m.kernel().stats().stack_growths, 1);
    // The heap: beyond the break is SIGSEGV until brk moves it.
    let beyond = l.brk + 10 * PAGE;
    assert!(matches!(
        touch(&mut m, 1, beyond, AccessKind::Write),
        AccessOutcome::Segv(_)
    ));
    {
        assert_eq!(
            m.syscall(1, Syscall::Brk(l.brk + 64 * PAGE)).unwrap(),
            SyscallResult::Addr(l.brk + 64 * PAGE)
        );
    }
    assert!(matches!(
        touch(&mut m, 1, beyond, AccessKind::Write),
        AccessOutcome::Done(_)
    ));
    {
        let (k, mem, _) = m.parts();
        assert!(k.store(mem, 1, va(beyond), 42));
    }
    // MADV_DONTNEED: the page reads back as zero.
    m.syscall(
        1,
        Syscall::Madvise(VaRange::pages(beyond, PAGE).unwrap(), Advice::DontNeed),
    )
    .unwrap();
    assert!(matches!(
        touch(&mut m, 1, beyond, AccessKind::Read),
        AccessOutcome::Done(_)
    ));
    assert_eq!(m.kernel().load(m.mem(), 1, va(beyond)), Some(0));
    // Shrinking the break unmaps.
    m.syscall(1, Syscall::Brk(l.brk + PAGE)).unwrap();
    assert!(matches!(
        touch(&mut m, 1, beyond, AccessKind::Read),
        AccessOutcome::Segv(_)
    ));
    // An mmap without an address goes just below the mmap base.
    let a = m
        .syscall(1, Syscall::Mmap(MmapRequest::anon(3 * PAGE, Prot::RW)))
        .unwrap();
    assert_eq!(a, SyscallResult::Addr(l.mmap_base - 3 * PAGE));
}

#[test]
fn transparent_huge_pages_map_2m_and_split_when_partially_unmapped() {
    let mut m = machine(
        "64M",
        1,
        LinuxConfig {
            implicit_anon: false,
            ..Default::default()
        },
    );
    let two_m = 2u64 << 20;
    let base = 0x7e00_0000_0000u64;
    m.syscall(
        1,
        Syscall::Mmap(MmapRequest {
            addr: Some(base),
            len: 2 * two_m,
            prot: Prot::RW,
            shared: false,
            file: None,
        }),
    )
    .unwrap();
    m.syscall(
        1,
        Syscall::Madvise(VaRange::pages(base, 2 * two_m).unwrap(), Advice::HugePage),
    )
    .unwrap();
    let used = m.mem().frames_in_use();
    for p in 0..2 * two_m / PAGE {
        touch(&mut m, 1, base + p * PAGE, AccessKind::Write);
    }
    let s = m.kernel().stats();
    assert_eq!(s.thp_allocs, 2);
    assert_eq!(s.minor_faults, 2, "one fault per 2 MiB");
    // One PDPT, one PD with two huge leaves, no page tables below them but one PTE table
    // deposited for each (counted as Linux's VmPTE counts them).
    assert_eq!(m.table_pages(), [2, 1, 1, 1, 0]);
    assert_eq!(m.mem().frames_in_use() - used, 1024 + 2);
    {
        let (k, mem, _) = m.parts();
        assert!(k.store(mem, 1, va(base + 5 * PAGE), 77));
    }
    // Unmapping one 4 KiB page splits its huge page: 511 pages stay, its deposited table
    // becomes a real one.
    m.syscall(
        1,
        Syscall::Munmap(VaRange::pages(base + 7 * PAGE, PAGE).unwrap()),
    )
    .unwrap();
    assert_eq!(m.kernel().stats().thp_splits, 1);
    assert_eq!(m.table_pages(), [2, 1, 1, 1, 0]);
    assert_eq!(m.kernel().memory(m.mem())[0].page_table_kib, 5 * 4);
    assert_eq!(m.kernel().load(m.mem(), 1, va(base + 5 * PAGE)), Some(77));
    assert!(matches!(
        touch(&mut m, 1, base + 7 * PAGE, AccessKind::Read),
        AccessOutcome::Segv(_)
    ));
    let mem_kib = m.kernel().memory(m.mem());
    assert_eq!(mem_kib[0].rss_anon_kib, 4 * 1024 - 4);
    // Exit frees everything; the buddy merges the split pages back.
    m.syscall(1, Syscall::Exit).unwrap();
    let blocks = m.mem().frames_in_use();
    assert_eq!(blocks, used - 1, "the process's root table is gone too");
    // Without MADV_HUGEPAGE: 4 KiB pages.
    let mut m2 = machine("64M", 1, LinuxConfig::default());
    for p in 0..512u64 {
        touch(&mut m2, 1, 0x7e00_0000_0000 + p * PAGE, AccessKind::Write);
    }
    assert_eq!(m2.kernel().stats().thp_allocs, 0);
}

#[test]
fn huge_pages_are_swapped_out_under_pressure_without_losing_data() {
    let cfg = LinuxConfig {
        swap_pages: 8192,
        implicit_anon: false,
        ..Default::default()
    };
    let mut m = machine("4M", 1, cfg);
    let two_m = 2u64 << 20;
    let base = 0x7e00_0000_0000u64;
    m.syscall(
        1,
        Syscall::Mmap(MmapRequest {
            addr: Some(base),
            len: 6 * two_m,
            prot: Prot::RW,
            shared: false,
            file: None,
        }),
    )
    .unwrap();
    m.syscall(
        1,
        Syscall::Madvise(VaRange::pages(base, 6 * two_m).unwrap(), Advice::HugePage),
    )
    .unwrap();
    for p in 0..6 * two_m / PAGE {
        touch(&mut m, 1, base + p * PAGE, AccessKind::Write);
        let (k, mem, _) = m.parts();
        assert!(k.store(mem, 1, va(base + p * PAGE), p + 1));
    }
    for p in 0..6 * two_m / PAGE {
        touch(&mut m, 1, base + p * PAGE, AccessKind::Read);
        assert_eq!(
            m.kernel().load(m.mem(), 1, va(base + p * PAGE)),
            Some(p + 1)
        );
    }
    let s = m.kernel().stats();
    assert!(s.thp_allocs >= 1 && s.thp_splits >= 1, "{s:?}");
    assert!(s.swap_outs > 0 && s.swap_ins > 0);
}

#[test]
fn shared_anonymous_memory_is_shared_across_fork() {
    let mut m = machine("64M", 2, LinuxConfig::default());
    let base = 0x6000_0000u64;
    m.syscall(
        1,
        Syscall::Mmap(MmapRequest {
            addr: Some(base),
            len: 4 * PAGE,
            prot: Prot::RW,
            shared: true,
            file: None,
        }),
    )
    .unwrap();
    touch(&mut m, 1, base, AccessKind::Write);
    m.syscall(1, Syscall::Fork { child: 2 }).unwrap();
    // The child writes without a copy, and the parent sees the write.
    m.access(1, 2, va(base), AccessKind::Write, 8, &mut ())
        .unwrap();
    {
        let (k, mem, _) = m.parts();
        assert!(k.store(mem, 2, va(base), 5));
    }
    assert_eq!(m.kernel().stats().cow_copies, 0);
    assert_eq!(m.kernel().load(m.mem(), 1, va(base)), Some(5));
    let mem = m.kernel().memory(m.mem());
    assert!(
        mem.iter()
            .all(|p| p.rss_shmem_kib == 4 && p.rss_anon_kib == 0),
        "{mem:?}"
    );
}

/// When the Linux-like model runs out of frames for good, its error says so in its own terms,
/// not the demand-zero kernel's "never reclaims": here forks take every frame for page tables,
/// and the next process cannot get a root table.
#[test]
fn the_linux_model_out_of_memory_does_not_blame_the_demand_zero_kernel() {
    let mut m = machine("64K", 1, LinuxConfig::default());
    touch(&mut m, 1, 0x7f00_0000_0000, AccessKind::Write);
    let mut errors = Vec::new();
    for child in 2..40 {
        if let Err(e) = m.syscall(1, Syscall::Fork { child }) {
            errors.push(e.to_string());
        }
    }
    if let Err(e) = m.access(0, 99, va(0x7f00_0000_0000), AccessKind::Write, 8, &mut ()) {
        errors.push(e.to_string());
    }
    assert!(
        errors.iter().any(|e| e.contains("Linux-like kernel")),
        "{errors:?}"
    );
    assert!(
        errors.iter().all(|e| !e.contains("demand-zero")),
        "{errors:?}"
    );
}

/// What the kernel's own events in `events` add up to: reclaim runs, evictions, swap-outs,
/// shootdowns (CPUs) and OOM kills.
fn kernel_events(events: &[Event]) -> [u64; 5] {
    let mut n = [0; 5];
    for e in events {
        match *e {
            Event::Reclaim { .. } => n[0] += 1,
            Event::Evict { .. } => n[1] += 1,
            Event::SwapOut { .. } => n[2] += 1,
            Event::Shootdown { cpus, .. } => n[3] += cpus,
            Event::OomKill { .. } => n[4] += 1,
            _ => {}
        }
    }
    n
}

fn kernel_counters(m: &Machine<LinuxKernel>) -> [u64; 5] {
    let s = m.kernel().stats();
    [
        s.direct_reclaims + s.background_reclaims,
        s.reclaim_stolen,
        s.swap_outs,
        s.shootdowns,
        s.oom_kills,
    ]
}

/// Replays `(cpu, pid, addr, kind)` with a `Recorder` and checks that every access's kernel
/// events add up to what its counters gained. Returns the totals.
fn events_follow_counters(
    m: &mut Machine<LinuxKernel>,
    accesses: impl Iterator<Item = (u16, u32, u64, AccessKind)>,
) -> [u64; 5] {
    let start = kernel_counters(m);
    for (cpu, pid, addr, kind) in accesses {
        let before = kernel_counters(m);
        let mut rec = Recorder::default();
        m.access(cpu, pid, va(addr), kind, 8, &mut rec).unwrap();
        let after = kernel_counters(m);
        let gained: Vec<u64> = after.iter().zip(before).map(|(a, b)| a - b).collect();
        assert_eq!(
            kernel_events(&rec.events).to_vec(),
            gained,
            "access to {addr:#x} by {pid}: {:?}",
            rec.events
        );
    }
    let end = kernel_counters(m);
    std::array::from_fn(|i| end[i] - start[i])
}

#[test]
fn the_kernel_reports_reclaim_evictions_swap_outs_and_shootdowns_as_they_are_counted() {
    let cfg = LinuxConfig {
        swap_pages: 4096,
        ..Default::default()
    };
    let mut m = machine("1M", 2, cfg); // 256 frames
                                       // Two processes over twice the RAM, each running on both CPUs in turn.
    let accesses = || {
        (0..3u64).flat_map(|pass| {
            (0..600u64).map(move |i| {
                let pid = 1 + (i % 2) as u32;
                let cpu = ((i / 50 + pass) % 2) as u16;
                (cpu, pid, 0x10_0000_0000 + (i / 2) * PAGE, AccessKind::Write)
            })
        })
    };
    let [reclaims, evictions, swap_outs, shootdowns, oom] =
        events_follow_counters(&mut m, accesses().cycle().take(9000));
    assert!(reclaims > 0 && evictions > 0 && swap_outs > 0 && shootdowns > 0);
    assert_eq!(oom, 0);
    // The () observer counts the same and keeps nothing.
    let mut quiet = machine("1M", 2, cfg);
    for (cpu, pid, addr, kind) in accesses().cycle().take(9000) {
        quiet.access(cpu, pid, va(addr), kind, 8, &mut ()).unwrap();
    }
    assert_eq!(m.kernel().stats(), quiet.kernel().stats());
}

#[test]
fn the_kernel_reports_an_oom_kill_as_it_is_counted() {
    let cfg = LinuxConfig {
        swap_pages: 0,
        ..Default::default()
    };
    let mut m = machine("4M", 1, cfg);
    let small = (0..100u64).map(|p| (0, 1, 0x1000_0000 + p * PAGE, AccessKind::Write));
    let big = (0..2000u64).map(|p| (0, 2, 0x2000_0000 + p * PAGE, AccessKind::Write));
    let [_, _, _, _, oom] = events_follow_counters(&mut m, small.chain(big));
    assert_eq!(oom, 1);
    assert_eq!(m.kernel().oom_victims(), &[2]);
}

#[test]
fn system_calls_through_the_machine_change_address_spaces_and_descheduling() {
    use vmsim_core::kernel::layout::Image;
    let mut m = machine("64M", 2, LinuxConfig::default());
    let exec = Syscall::Exec {
        image: Image::default(),
        aslr: false,
        seed: 0,
    };
    let SyscallResult::Exec(layout) = m.syscall(1, exec).unwrap() else {
        panic!("exec returns its layout")
    };
    let req = MmapRequest::anon(4 * PAGE, Prot::RW);
    let SyscallResult::Addr(a) = m.syscall(1, Syscall::Mmap(req)).unwrap() else {
        panic!("mmap returns its address")
    };
    for p in 0..4 {
        touch(&mut m, 1, a + p * PAGE, AccessKind::Write);
    }
    assert_eq!(
        m.syscall(1, Syscall::Fork { child: 2 }).unwrap(),
        SyscallResult::Done
    );
    m.access(1, 2, va(a), AccessKind::Write, 8, &mut ())
        .unwrap();
    assert_eq!(m.kernel().stats().cow_copies, 1);
    let range = |p: u64| VaRange::pages(a + p * PAGE, PAGE).unwrap();
    m.syscall(1, Syscall::Mprotect(range(1), Prot::R)).unwrap();
    assert!(matches!(
        touch(&mut m, 1, a + PAGE, AccessKind::Write),
        AccessOutcome::Segv(_)
    ));
    m.syscall(1, Syscall::Madvise(range(2), Advice::DontNeed))
        .unwrap();
    m.syscall(1, Syscall::Munmap(range(3))).unwrap();
    // Outside every VMA now: served as implicit anonymous memory, as a trace's page would be.
    touch(&mut m, 1, a + 3 * PAGE, AccessKind::Read);
    assert_eq!(m.kernel().stats().outside_vmas, 1);
    let want = layout.brk + 3 * PAGE;
    assert_eq!(
        m.syscall(1, Syscall::Brk(want)).unwrap(),
        SyscallResult::Addr(want)
    );
    assert!(m.syscall(1, Syscall::Brk(u64::MAX)).is_err());
    // Exit frees the process, and the next access by its pid starts a new one.
    m.syscall(2, Syscall::Exit).unwrap();
    assert_eq!(m.kernel().processes(), 1);
    m.access(1, 2, va(a), AccessKind::Read, 8, &mut ()).unwrap();
    assert_eq!(m.kernel().processes(), 2);
}

/// A process the OOM killer ends runs no more: its later records are dropped and counted, the
/// kill is recorded with the record it happened at, and other processes go on.
#[test]
fn an_oom_killed_process_stops_and_its_later_records_are_dropped() {
    let cfg = LinuxConfig {
        implicit_anon: true,
        ..LinuxConfig::default()
    };
    let mut m = machine("1M", 1, cfg);
    // Process 2 first takes a few pages; process 1 then outgrows memory (no swap).
    for p in 0..4 {
        touch(&mut m, 2, 0x3000_0000 + p * PAGE, AccessKind::Write);
    }
    let mut killed_at = None;
    for p in 0..1024 {
        if let AccessOutcome::Segv(_) = touch(&mut m, 1, 0x1000_0000 + p * PAGE, AccessKind::Write)
        {
            killed_at = Some(m.stats().records);
            break;
        }
    }
    let at = killed_at.expect("1 MiB cannot hold 4 MiB of anonymous pages without swap");
    let kills = m.stats().oom_kills.clone();
    assert_eq!(kills.len(), 1);
    assert_eq!((kills[0].pid, kills[0].record), (1, at));
    assert_eq!(m.kernel().oom_victims(), &[1]);
    // Process 1's next records are dropped, not replayed by a process made afresh.
    let before = m.stats().accesses;
    for p in 0..10 {
        assert_eq!(
            touch(&mut m, 1, 0x1000_0000 + p * PAGE, AccessKind::Read),
            AccessOutcome::Dropped
        );
    }
    assert_eq!(m.stats().dropped, 10);
    assert_eq!(m.stats().accesses, before);
    // Process 2 goes on.
    assert!(matches!(
        touch(&mut m, 2, 0x3000_0000, AccessKind::Read),
        AccessOutcome::Done(_)
    ));
    assert_eq!(m.stats().dropped, 10);
}

/// Maps `len` bytes at `addr` for `pid`: anonymous, or of `file` from its first page.
fn map(m: &mut Machine<LinuxKernel>, pid: u32, addr: u64, len: u64, prot: Prot, file: Option<u32>) {
    let req = MmapRequest {
        addr: Some(addr),
        len,
        prot,
        shared: false,
        file: file.map(|f| (f, 0)),
    };
    m.syscall(pid, Syscall::Mmap(req)).unwrap();
}

fn faults(m: &Machine<LinuxKernel>, pid: u32) -> (u64, u64) {
    let p = m.kernel().memory(m.mem());
    let p = p.iter().find(|p| p.pid == pid).expect("process");
    (p.stats.minor_faults, p.stats.major_faults)
}

/// Linux 6.18 `do_anonymous_page`: reads of untouched private anonymous memory map the shared
/// zero page (one fault each, no RSS, one frame for all of them); each first write faults
/// again and allocates.
#[test]
fn reads_of_untouched_anonymous_memory_map_the_zero_page_and_writes_fault_again() {
    let mut m = machine("64M", 1, LinuxConfig::default());
    let (base, n) = (0x7e00_0000_0000u64, 256u64);
    map(&mut m, 1, base, n * PAGE, Prot::RW, None);
    let used = m.mem().frames_in_use();
    for p in 0..n {
        touch(&mut m, 1, base + p * PAGE, AccessKind::Read);
    }
    assert_eq!(faults(&m, 1), (n, 0));
    let mem = m.kernel().memory(m.mem());
    assert_eq!(mem[0].rss_anon_kib, 0, "the zero page is nobody's RSS");
    // One zero frame and the page tables; no data frames.
    assert_eq!(m.kernel().zero_page_frames(), 1);
    assert_eq!(m.kernel().resident_frames(), 0);
    assert_eq!(m.kernel().load(m.mem(), 1, va(base)), Some(0));
    assert_eq!(
        m.mem().frames_in_use() - used,
        1 + m.table_pages().iter().sum::<u64>() - 1
    );
    // Reading again faults nothing; writing faults once per page and allocates.
    for p in 0..n {
        touch(&mut m, 1, base + p * PAGE, AccessKind::Read);
    }
    assert_eq!(faults(&m, 1), (n, 0));
    for p in 0..n {
        touch(&mut m, 1, base + p * PAGE, AccessKind::Write);
    }
    assert_eq!(faults(&m, 1), (2 * n, 0));
    assert_eq!(m.kernel().stats().demand_zero, n);
    assert_eq!(m.kernel().memory(m.mem())[0].rss_anon_kib, n * 4);
    // A write first allocates at once: one fault.
    let other = base + (1 << 30);
    map(&mut m, 1, other, PAGE, Prot::RW, None);
    touch(&mut m, 1, other, AccessKind::Write);
    assert_eq!(faults(&m, 1), (2 * n + 1, 0));
}

/// Linux 6.18 `do_huge_pmd_anonymous_page` with `use_zero_page`: a read of a THP region maps
/// the huge zero page (one fault per 2 MiB, no RSS); a write splits that PMD into 4 KiB
/// zero-page PTEs and allocates a 4 KiB page (`do_huge_pmd_wp_page` falls back), with no THP.
#[test]
fn a_read_of_a_thp_region_maps_the_huge_zero_page_and_a_write_falls_back_to_4k() {
    let mut m = machine("64M", 1, LinuxConfig::default());
    let two_m = 2u64 << 20;
    let base = 0x7e00_0000_0000u64;
    map(&mut m, 1, base, 2 * two_m, Prot::RW, None);
    let range = VaRange::pages(base, 2 * two_m).unwrap();
    m.syscall(1, Syscall::Madvise(range, Advice::HugePage))
        .unwrap();
    for p in 0..2 * two_m / PAGE {
        touch(&mut m, 1, base + p * PAGE, AccessKind::Read);
    }
    assert_eq!(faults(&m, 1), (2, 0), "one fault per 2 MiB");
    assert_eq!(m.kernel().memory(m.mem())[0].rss_anon_kib, 0);
    assert_eq!(
        m.table_pages()[0],
        2,
        "PMD mappings: a PTE table deposited for each"
    );
    assert_eq!(m.kernel().zero_page_frames(), 512);
    // A write to the first 2 MiB: its PMD becomes 512 zero PTEs and one page is allocated.
    touch(&mut m, 1, base + 3 * PAGE, AccessKind::Write);
    assert_eq!(faults(&m, 1), (3, 0));
    let s = m.kernel().stats();
    assert_eq!((s.thp_allocs, s.thp_splits, s.demand_zero), (0, 0, 1));
    assert_eq!(m.kernel().memory(m.mem())[0].rss_anon_kib, 4);
    assert_eq!(
        m.table_pages()[0],
        2,
        "one deposit withdrawn into a real table"
    );
    // The rest of that 2 MiB still reads zeros without faulting; the other 2 MiB stays huge.
    touch(&mut m, 1, base + 4 * PAGE, AccessKind::Read);
    touch(&mut m, 1, base + two_m + PAGE, AccessKind::Read);
    assert_eq!(faults(&m, 1), (3, 0));
    assert_eq!(m.kernel().load(m.mem(), 1, va(base + two_m)), Some(0));
    // munmap of part of the huge zero mapping splits it and leaves no RSS behind.
    m.syscall(
        1,
        Syscall::Munmap(VaRange::pages(base + two_m, PAGE).unwrap()),
    )
    .unwrap();
    assert_eq!(m.kernel().memory(m.mem())[0].rss_anon_kib, 4);
    m.syscall(1, Syscall::Exit).unwrap();
    assert_eq!(m.kernel().resident_frames(), 0);
}

/// Linux 6.18 `do_cow_fault`: a write that is the first touch of a private file page copies
/// it into an anonymous page in one fault (it was counted twice: once in the page-cache
/// path, once in the copy).
#[test]
fn a_first_write_to_a_private_file_page_is_one_fault() {
    let cfg = LinuxConfig {
        file_readahead: 0,
        ..Default::default()
    };
    let mut m = machine("64M", 1, cfg);
    let base = 0x6000_0000u64;
    let f = m.new_file();
    map(&mut m, 1, base, 8 * PAGE, Prot::RW, Some(f));
    for p in 0..8 {
        touch(&mut m, 1, base + p * PAGE, AccessKind::Write);
    }
    // Every page read from disk (major), copied, and counted once.
    assert_eq!(faults(&m, 1), (0, 8));
    let s = m.kernel().stats();
    assert_eq!((s.cow_copies, s.file_reads, s.major_faults), (8, 8, 8));
    assert_eq!(m.stats().major_faults, 8, "the machine counts them too");
    let mem = m.kernel().memory(m.mem());
    assert_eq!((mem[0].rss_anon_kib, mem[0].rss_file_kib), (32, 0));
    // A second process reading the file now finds it cached: one minor fault maps all eight
    // (fault-around).
    map(&mut m, 2, base, 8 * PAGE, Prot::R, Some(f));
    for p in 0..8 {
        touch(&mut m, 2, base + p * PAGE, AccessKind::Read);
    }
    assert_eq!(faults(&m, 2), (1, 0));
}

/// Linux 6.18 `do_swap_page`: a write fault on a swapped-out page that another process still
/// references copies it within the same fault, counted once.
#[test]
fn a_write_that_swaps_in_a_shared_page_is_one_fault() {
    let cfg = LinuxConfig {
        policy: "lru".parse().unwrap(),
        swap_pages: 4096,
        swap_readahead: 0,
        ..Default::default()
    };
    let mut m = machine("1M", 1, cfg); // 256 frames
    let base = 0x10_0000_0000u64;
    touch(&mut m, 1, base, AccessKind::Write);
    m.syscall(1, Syscall::Fork { child: 2 }).unwrap();
    // Push the shared page out with other memory of process 3.
    for p in 0..400u64 {
        touch(&mut m, 3, 0x20_0000_0000 + p * PAGE, AccessKind::Write);
    }
    assert!(m.kernel().stats().swap_outs > 0);
    let (minor, major) = faults(&m, 2);
    touch(&mut m, 2, base, AccessKind::Write);
    let (minor2, major2) = faults(&m, 2);
    assert_eq!(minor2 + major2, minor + major + 1);
    assert_eq!(m.kernel().stats().cow_copies, 1);
}

/// Linux 6.18 `copy_page_range` with `vma_needs_copy`: fork copies no entries of a VMA without
/// anonymous pages, so the child faults the file's pages in from the page cache (minor
/// faults); a private file VMA with a copied page is copied whole.
#[test]
fn fork_copies_only_the_vmas_that_hold_anonymous_pages() {
    let cfg = LinuxConfig {
        file_readahead: 0,
        ..Default::default()
    };
    let mut m = machine("64M", 1, cfg);
    let (ro, rw) = (0x6000_0000u64, 0x7000_0000u64);
    let f = m.new_file();
    map(&mut m, 1, ro, 16 * PAGE, Prot::R, Some(f));
    map(&mut m, 1, rw, 16 * PAGE, Prot::RW, Some(f));
    for p in 0..16 {
        touch(&mut m, 1, ro + p * PAGE, AccessKind::Read);
        touch(&mut m, 1, rw + p * PAGE, AccessKind::Read);
    }
    touch(&mut m, 1, rw, AccessKind::Write);
    m.syscall(1, Syscall::Fork { child: 2 }).unwrap();
    for p in 0..16 {
        touch(&mut m, 2, ro + p * PAGE, AccessKind::Read);
        touch(&mut m, 2, rw + p * PAGE, AccessKind::Read);
    }
    // The read-only VMA is faulted in again (one fault maps its 16 cached pages around it);
    // the one with an anonymous page was copied.
    assert_eq!(faults(&m, 2), (1, 0));
    let mem = m.kernel().memory(m.mem());
    assert_eq!(mem[1].rss_file_kib, 2 * 15 * 4 + 4);
    assert_eq!(mem[1].rss_anon_kib, 4);
}

/// Linux 6.18 `do_fault_around`: a read fault on a file mapping maps the cached pages of its
/// 64 KiB window, the window aligned to 16 pages of the page table but never reaching before
/// the VMA's start; pages not cached are left to their own faults.
#[test]
fn a_read_fault_maps_the_cached_pages_of_its_fault_around_window() {
    let cfg = LinuxConfig {
        file_readahead: 0,
        ..Default::default()
    };
    let mut m = machine("64M", 1, cfg);
    // The VMA starts 8 pages into a page table and spans 40 pages.
    let start = 0x6000_0000u64 + 8 * PAGE;
    let f = m.new_file();
    m.cache_file_pages(f, 0, 40);
    map(&mut m, 1, start, 40 * PAGE, Prot::R, Some(f));
    for p in 0..40 {
        touch(&mut m, 1, start + p * PAGE, AccessKind::Read);
    }
    // Faults at VMA pages 0 (maps 0..16), 16 (16..24: 8..16 are mapped) and 24 (24..40).
    assert_eq!(faults(&m, 1), (3, 0));
    assert_eq!(m.kernel().memory(m.mem())[0].rss_file_kib, 40 * 4);
    // Cold, nothing around a fault is cached: one major fault per page.
    let g = m.new_file();
    let other = 0x7000_0000u64;
    map(&mut m, 1, other, 40 * PAGE, Prot::R, Some(g));
    for p in 0..40 {
        touch(&mut m, 1, other + p * PAGE, AccessKind::Read);
    }
    assert_eq!(faults(&m, 1), (3, 40));
    // Off (fault_around_bytes = 4096): one fault per page even when cached.
    let cfg = LinuxConfig {
        fault_around_bytes: 4096,
        ..Default::default()
    };
    let mut m = machine("64M", 1, cfg);
    let f = m.new_file();
    m.cache_file_pages(f, 0, 40);
    map(&mut m, 1, start, 40 * PAGE, Prot::R, Some(f));
    for p in 0..40 {
        touch(&mut m, 1, start + p * PAGE, AccessKind::Read);
    }
    assert_eq!(faults(&m, 1), (40, 0));
}

/// Linux 6.18 `copy_huge_pmd` and `do_huge_pmd_wp_page`: fork shares an anonymous THP by PMD;
/// a write by either side splits only that huge page (here the folio, in both) and copies
/// 4 KiB; huge pages no one writes stay 2 MiB in both; the last mapper reuses in place.
#[test]
fn fork_shares_huge_pages_by_pmd_and_a_write_splits_only_its_own() {
    let mut m = machine("64M", 2, LinuxConfig::default());
    let two_m = 2u64 << 20;
    let base = 0x7e00_0000_0000u64;
    map(&mut m, 1, base, 4 * two_m, Prot::RW, None);
    let range = VaRange::pages(base, 4 * two_m).unwrap();
    m.syscall(1, Syscall::Madvise(range, Advice::HugePage))
        .unwrap();
    for p in 0..4 * two_m / PAGE {
        touch(&mut m, 1, base + p * PAGE, AccessKind::Write);
    }
    {
        let (k, mem, _) = m.parts();
        assert!(k.store(mem, 1, va(base + 5 * PAGE), 42));
    }
    m.syscall(1, Syscall::Fork { child: 2 }).unwrap();
    assert_eq!(m.kernel().stats().thp_splits, 0, "fork splits nothing");
    let pt = m.kernel().memory(m.mem());
    assert_eq!(
        pt[1].page_table_kib, pt[0].page_table_kib,
        "the child's deposits"
    );
    // The child writes 4 KiB of the first huge page: that one is split and one page copied.
    m.access(1, 2, va(base + 5 * PAGE), AccessKind::Write, 8, &mut ())
        .unwrap();
    let s = m.kernel().stats();
    assert_eq!((s.thp_splits, s.cow_copies), (1, 1));
    assert_eq!(faults(&m, 2), (1, 0));
    assert_eq!(m.kernel().load(m.mem(), 1, va(base + 5 * PAGE)), Some(42));
    // The parent writing its second huge page while the child still maps it splits it too;
    // after the child exits, the parent's third is its alone: made writable whole.
    touch(&mut m, 1, base + two_m, AccessKind::Write);
    assert_eq!(m.kernel().stats().thp_splits, 2);
    m.syscall(2, Syscall::Exit).unwrap();
    m.deschedule(2);
    touch(&mut m, 1, base + 2 * two_m, AccessKind::Write);
    let s = m.kernel().stats();
    assert_eq!((s.thp_splits, s.cow_reuses), (2, 1));
    assert_eq!(m.kernel().memory(m.mem())[0].rss_anon_kib, 4 * 2048);
    m.syscall(1, Syscall::Exit).unwrap();
    assert_eq!(m.kernel().resident_frames(), 0);
}
