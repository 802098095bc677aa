//! One process's address space as Linux holds it: its areas from `smaps` classified by role,
//! their pages from `pagemap` (and, as root, `/proc/kpageflags` to find PMD-mapped huge pages),
//! the totals of `status`, and the page tables vmsim's radix model needs for those pages next
//! to the kernel's `VmPTE`.
use crate::error::ProcError;
use crate::layout::{classify, Region};
use crate::procfs::maps::{MapsEntry, Perms};
use crate::procfs::pagemap::{kpf, PageState, U64Table};
use crate::procfs::read;
use crate::procfs::smaps::{self, SmapsCounts};
use crate::procfs::status::{self, Status};
use crate::snapshot::{SavedArea, SavedLayout};
use crate::tables::{model_tables, Agreement, Leaf, TablePages};
use serde::Serialize;
use std::path::PathBuf;
use thiserror::Error;
use vmsim_core::radix::MapError;
use vmsim_core::PageSize;

/// Which process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The calling process.
    SelfProcess,
    /// A process id.
    Pid(u32),
}

impl Target {
    /// Its `/proc` directory.
    pub fn dir(self) -> PathBuf {
        match self {
            Target::SelfProcess => PathBuf::from("/proc/self"),
            Target::Pid(p) => PathBuf::from(format!("/proc/{p}")),
        }
    }
}

/// A failure inspecting a process.
#[derive(Debug, Error)]
pub enum InspectError {
    /// A `/proc` file could not be read or parsed.
    #[error(transparent)]
    Proc(#[from] ProcError),
    /// The pages did not fit the radix model (overlapping areas: the process changed).
    #[error("building the page-table model: {0}")]
    Model(#[from] MapError),
}

/// Page counts of one area, from pagemap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PageCounts {
    /// Resident pages.
    pub present: u64,
    /// Pages in swap.
    pub swapped: u64,
    /// Pages written since the last `clear_refs` (soft-dirty).
    pub soft_dirty: u64,
    /// Resident pages only this process maps.
    pub exclusive: u64,
    /// Resident file pages or shared anonymous pages.
    pub file_or_shared: u64,
    /// Resident pages inside PMD-mapped huge pages (found through kpageflags; root only).
    pub in_huge_pages: u64,
}

impl PageCounts {
    fn add(&mut self, o: &PageCounts) {
        self.present += o.present;
        self.swapped += o.swapped;
        self.soft_dirty += o.soft_dirty;
        self.exclusive += o.exclusive;
        self.file_or_shared += o.file_or_shared;
        self.in_huge_pages += o.in_huge_pages;
    }
}

/// One area.
#[derive(Debug, Clone, Serialize)]
pub struct Area {
    /// First byte.
    pub start: u64,
    /// One past the last.
    pub end: u64,
    /// `rwxp`.
    pub perms: String,
    /// What it is for.
    pub region: Region,
    /// Backing file or pseudo-name; empty for anonymous memory.
    pub path: String,
    /// Byte offset into the backing file.
    pub offset: u64,
    /// Unmapped bytes between the previous area's end and this one's start.
    pub gap_before: u64,
    /// smaps figures (KiB).
    pub kib: SmapsCounts,
    /// pagemap figures (pages); `None` when pagemap was not read (vsyscall).
    pub pages: Option<PageCounts>,
    /// `VmFlags`.
    pub vm_flags: Vec<String>,
    #[serde(skip)]
    perms_raw: Perms,
}

impl Area {
    /// The parsed permissions.
    pub fn perms(&self) -> Perms {
        self.perms_raw
    }
}

/// What the caller could and could not see.
#[derive(Debug, Clone, Serialize)]
pub struct Visibility {
    /// pagemap frame numbers (CAP_SYS_ADMIN).
    pub frame_numbers: bool,
    /// `/proc/kpageflags` (root): where huge pages are.
    pub kpageflags: bool,
    /// What is missing and what that changes.
    pub notes: Vec<String>,
}

/// Totals over all areas (KiB unless named pages).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Totals {
    /// Virtual size.
    pub vsz_kib: u64,
    /// Resident.
    pub rss_kib: u64,
    /// Proportional set size.
    pub pss_kib: u64,
    /// Unique set size.
    pub uss_kib: u64,
    /// Swapped out.
    pub swap_kib: u64,
    /// Resident anonymous memory.
    pub anon_kib: u64,
    /// Resident memory of file-backed areas.
    pub file_kib: u64,
    /// Resident memory shared with other processes.
    pub shared_kib: u64,
    /// Anonymous memory in transparent huge pages.
    pub thp_kib: u64,
    /// Page counts from pagemap.
    pub pages: PageCounts,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Inspection {
    /// Process id.
    pub pid: u32,
    /// Command name.
    pub name: String,
    /// Executable, when readable.
    pub exe: Option<String>,
    /// Totals.
    #[serde(flatten)]
    pub totals: Totals,
    /// The kernel's page-table memory (`VmPTE`).
    pub vmpte_kib: u64,
    /// The kernel's status figures.
    pub status: Status,
    /// Table pages the radix model builds from the pages with entries (present or swapped).
    pub model_table_pages: TablePages,
    /// The model's PTE+PMD+PUD pages against `VmPTE`.
    pub model_vs_vmpte: Agreement,
    /// Areas, low to high.
    pub areas: Vec<Area>,
    /// What could be seen.
    pub visibility: Visibility,
    /// Runs of pages with entries, `(first address, pages)`; filled when asked (snapshots).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub present_runs: Vec<(u64, u64)>,
}

/// Reads everything about `target`. With `keep_runs`, the runs of present pages are kept for
/// a snapshot.
pub fn inspect(target: Target, keep_runs: bool) -> Result<Inspection, InspectError> {
    let dir = target.dir();
    let status_path = dir.join("status");
    let st = status::parse(&status_path.display().to_string(), &read(&status_path)?)?;
    let smaps_path = dir.join("smaps");
    let mut notes = Vec::new();
    // Another user's process: status stays readable, smaps and pagemap need ptrace access.
    let entries = match read(&smaps_path) {
        Ok(text) => smaps::parse(&smaps_path.display().to_string(), &text)?,
        Err(ProcError::Io { error, .. })
            if error.kind() == std::io::ErrorKind::PermissionDenied =>
        {
            notes.push(format!(
                "{} is unreadable (it needs ptrace access: the same user, or root): no areas, \
                 no page counts, no table model; the totals are the kernel's status figures",
                smaps_path.display()
            ));
            Vec::new()
        }
        Err(e) => return Err(e.into()),
    };
    let exe = std::fs::read_link(dir.join("exe"))
        .ok()
        .map(|p| p.display().to_string());
    let maps: Vec<MapsEntry> = entries.iter().map(|e| e.area.clone()).collect();
    let regions = classify(&maps, exe.as_deref());

    let pagemap = U64Table::open(&dir.join("pagemap"));
    let kpage = U64Table::open(std::path::Path::new("/proc/kpageflags")).ok();
    let mut leaves: Vec<Leaf> = Vec::new();
    let mut runs: Vec<(u64, u64)> = Vec::new();
    let mut saw_pfn = false;
    let mut saw_present = false;
    let mut areas = Vec::with_capacity(entries.len());
    let mut prev_end = None;
    let pagemap = match pagemap {
        _ if entries.is_empty() => None,
        Ok(p) => Some(p),
        Err(e) => {
            notes.push(format!(
                "pagemap unreadable ({e}): no page counts, no table model"
            ));
            None
        }
    };
    for (e, region) in entries.iter().zip(regions) {
        let a = &e.area;
        let mut pages = None;
        if let (Some(pm), false) = (&pagemap, region == Region::Vsyscall) {
            let mut c = PageCounts::default();
            let first = a.start >> 12;
            let n = a.len() >> 12;
            let mut states = Vec::with_capacity(n.min(1 << 16) as usize);
            pm.for_each(first, n, |_, raw| states.push(PageState::decode(raw)))?;
            let anon = !a.is_file();
            let mut i = 0usize;
            while i < states.len() {
                let va = a.start + ((i as u64) << 12);
                if let Some(huge) = huge_at(&states, i, va, a.end, kpage.as_ref())? {
                    leaves.push(Leaf {
                        va,
                        size: PageSize::SIZE_2M,
                        pfn: Some(huge),
                        deposits_pte: anon,
                    });
                    for s in &states[i..i + 512] {
                        count(&mut c, s);
                    }
                    c.in_huge_pages += 512;
                    push_run(&mut runs, va, 512);
                    saw_pfn = true;
                    saw_present = true;
                    i += 512;
                    continue;
                }
                let s = states[i];
                count(&mut c, &s);
                if let PageState::Present { pfn, .. } = s {
                    saw_present = true;
                    saw_pfn |= pfn.is_some();
                }
                if s.has_pte() {
                    let pfn = match s {
                        PageState::Present { pfn, .. } => pfn,
                        _ => None,
                    };
                    leaves.push(Leaf {
                        va,
                        size: PageSize::SIZE_4K,
                        pfn,
                        deposits_pte: false,
                    });
                    push_run(&mut runs, va, 1);
                }
                i += 1;
            }
            pages = Some(c);
        }
        areas.push(Area {
            start: a.start,
            end: a.end,
            perms: a.perms.to_string(),
            region,
            path: a.path.clone(),
            offset: a.offset,
            gap_before: prev_end.map_or(0, |p| a.start - p),
            kib: e.counts.clone(),
            pages,
            vm_flags: e.vm_flags.clone(),
            perms_raw: a.perms,
        });
        prev_end = Some(a.end);
    }
    if saw_present && !saw_pfn {
        notes.push(
            "pagemap frame numbers are hidden (they need CAP_SYS_ADMIN): present and swapped \
             bits are shown, physical frames are not"
                .into(),
        );
    }
    if saw_present
        && !areas
            .iter()
            .any(|a| a.pages.is_some_and(|p| p.soft_dirty > 0))
    {
        notes.push(
            "no page is soft-dirty: the kernel lacks CONFIG_MEM_SOFT_DIRTY, or the bits were \
             cleared (clear_refs 4) and nothing was written since"
                .into(),
        );
    }
    if kpage.is_none() {
        notes.push(
            "/proc/kpageflags is unreadable (root only): huge pages cannot be located, so the \
             model maps them as 4 KiB pages (the same table count, since Linux deposits a PTE \
             table per anonymous huge page)"
                .into(),
        );
    }
    let mut totals = Totals::default();
    for a in &areas {
        let k = &a.kib;
        totals.vsz_kib += (a.end - a.start) >> 10;
        totals.rss_kib += k.rss;
        totals.pss_kib += k.pss;
        totals.uss_kib += k.uss();
        totals.swap_kib += k.swap;
        totals.anon_kib += k.anonymous;
        totals.shared_kib += k.shared_clean + k.shared_dirty;
        totals.thp_kib += k.anon_huge_pages;
        if a.path.starts_with('/') {
            totals.file_kib += k.rss;
        }
        if let Some(p) = &a.pages {
            totals.pages.add(p);
        }
    }
    if entries.is_empty() {
        totals.vsz_kib = st.vm_size.unwrap_or(0);
        totals.rss_kib = st.vm_rss.unwrap_or(0);
        totals.swap_kib = st.vm_swap.unwrap_or(0);
        totals.anon_kib = st.rss_anon.unwrap_or(0);
        totals.file_kib = st.rss_file.unwrap_or(0);
    }
    let vmpte_kib = st.vm_pte.unwrap_or(0);
    let (model, agreement) = if pagemap.is_some() {
        let m = model_tables(&leaves)?;
        (m, Agreement::of(m.vmpte_pages(), vmpte_kib))
    } else {
        (TablePages::default(), Agreement::NotModelled)
    };
    Ok(Inspection {
        pid: st.pid,
        name: st.name.clone(),
        exe,
        totals,
        vmpte_kib,
        model_vs_vmpte: agreement,
        model_table_pages: model,
        status: st,
        areas,
        visibility: Visibility {
            frame_numbers: saw_pfn,
            kpageflags: kpage.is_some(),
            notes,
        },
        present_runs: if keep_runs { runs } else { Vec::new() },
    })
}

fn count(c: &mut PageCounts, s: &PageState) {
    match *s {
        PageState::None => {}
        PageState::Present {
            soft_dirty,
            exclusive,
            file_or_shared,
            ..
        } => {
            c.present += 1;
            c.soft_dirty += u64::from(soft_dirty);
            c.exclusive += u64::from(exclusive);
            c.file_or_shared += u64::from(file_or_shared);
        }
        PageState::Swapped { soft_dirty, .. } => {
            c.swapped += 1;
            c.soft_dirty += u64::from(soft_dirty);
        }
    }
}

fn push_run(runs: &mut Vec<(u64, u64)>, va: u64, pages: u64) {
    if let Some(last) = runs.last_mut() {
        if last.0 + (last.1 << 12) == va {
            last.1 += pages;
            return;
        }
    }
    runs.push((va, pages));
}

/// Whether a PMD-mapped huge page starts at page `i` (address `va`): 2 MiB-aligned inside the
/// area, 512 present pages on consecutive frames from an aligned frame that kpageflags marks
/// as the head of a transparent huge page (or the huge zero page). Returns its first frame.
fn huge_at(
    states: &[PageState],
    i: usize,
    va: u64,
    end: u64,
    kpage: Option<&U64Table>,
) -> Result<Option<u64>, ProcError> {
    let Some(kp) = kpage else { return Ok(None) };
    if !va.is_multiple_of(2 << 20) || va + (2 << 20) > end || i + 512 > states.len() {
        return Ok(None);
    }
    let PageState::Present {
        pfn: Some(head), ..
    } = states[i]
    else {
        return Ok(None);
    };
    if !head.is_multiple_of(512) {
        return Ok(None);
    }
    let contiguous = states[i..i + 512].iter().enumerate().all(
        |(k, s)| matches!(s, PageState::Present { pfn: Some(p), .. } if *p == head + k as u64),
    );
    if !contiguous {
        return Ok(None);
    }
    let flags = kp.get(head)?.unwrap_or(0);
    let thp = flags & kpf::THP != 0 && flags & (kpf::COMPOUND_HEAD | kpf::ZERO_PAGE) != 0;
    Ok(thp.then_some(head))
}

impl Inspection {
    /// The snapshot of this inspection (empty `present` unless inspected with `keep_runs`).
    pub fn snapshot(&self) -> SavedLayout {
        SavedLayout {
            pid: Some(self.pid),
            exe: self.exe.clone(),
            vmas: self
                .areas
                .iter()
                .map(|a| SavedArea {
                    start: a.start,
                    end: a.end,
                    perms: a.perms.clone(),
                    region: a.region,
                    path: a.path.clone(),
                    offset: a.offset,
                })
                .collect(),
            present: self.present_runs.clone(),
        }
    }
}
