//! A process's saved layout: what `vmsim inspect --snapshot` writes, and what `vmsim run
//! --layout` reads back so that a trace replays in the areas the real process had, with their
//! permissions, sharing and backing files, instead of memory invented on first touch.
//!
//! Two inputs name a layout: the JSON of a snapshot, and a `/proc/PID/maps` text (what `vmsim
//! record` saves beside its trace). Both become the same [`SavedLayout`]; [`SavedLayout::space`]
//! turns it into the kernel model's VMAs.
use crate::error::ProcError;
use crate::layout::{classify, Region};
use crate::procfs::maps::{self, Perms};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;
use vmsim_core::kernel::vma::{AddressSpace, Backing, FileId, Prot, Vma, PAGE};

/// The areas of one process and the pages that had entries when it was saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedLayout {
    /// Process id it was read from (absent for a maps file).
    #[serde(default)]
    pub pid: Option<u32>,
    /// Its executable, when known.
    #[serde(default)]
    pub exe: Option<String>,
    /// Areas, low to high.
    pub vmas: Vec<SavedArea>,
    /// Runs of pages with page-table entries: `[first address, pages]`.
    #[serde(default)]
    pub present: Vec<(u64, u64)>,
}

/// One area of a [`SavedLayout`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedArea {
    /// First byte.
    pub start: u64,
    /// One past the last.
    pub end: u64,
    /// `rwxp` or `rwxs`, as in `maps`.
    pub perms: String,
    /// Role.
    pub region: Region,
    /// Backing file or pseudo-name; empty for anonymous memory.
    pub path: String,
    /// Byte offset of the area's first page in its file (0 when anonymous; snapshots written
    /// before the field existed read as 0).
    #[serde(default)]
    pub offset: u64,
}

/// Why an area of a layout is not given to the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Skipped {
    /// It lies in the kernel's half of the address space (the legacy vsyscall page).
    KernelAddress,
}

/// A layout turned into the kernel model's VMAs.
#[derive(Debug, Clone)]
pub struct ModelSpace {
    /// The VMAs.
    pub space: AddressSpace,
    /// Areas left out and why: `(index in the layout, reason)`.
    pub skipped: Vec<(usize, Skipped)>,
    /// Distinct backing files, each one file of the page cache.
    pub files: usize,
}

/// Lowest address of the kernel's half on 4- and 5-level machines alike: user areas lie below.
const USER_TOP: u64 = 1 << 56;

/// What is wrong with an area's range or file offset, if anything: VMAs are whole pages.
fn misaligned(start: u64, end: u64, offset: u64) -> Option<String> {
    if start >= end || !start.is_multiple_of(PAGE) || !end.is_multiple_of(PAGE) {
        return Some(format!(
            "{start:#x}-{end:#x} is not a page-aligned, non-empty range"
        ));
    }
    (!offset.is_multiple_of(PAGE)).then(|| format!("offset {offset:#x} is not page-aligned"))
}

impl SavedLayout {
    /// Reads a layout from `path`: snapshot JSON when the text starts with `{`, `maps` text
    /// otherwise. Errors name the file and, for `maps`, the line.
    pub fn load(path: &Path) -> Result<SavedLayout, ProcError> {
        let text = std::fs::read_to_string(path).map_err(|e| ProcError::io(path, e))?;
        let name = path.display().to_string();
        if text.trim_start().starts_with('{') {
            Self::from_json(&name, &text)
        } else {
            Self::from_maps(&name, &text)
        }
    }

    /// Parses `maps` text; areas are classified without knowing the executable.
    pub fn from_maps(name: &str, text: &str) -> Result<SavedLayout, ProcError> {
        let entries = maps::parse(name, text)?;
        if entries.is_empty() {
            return Err(ProcError::malformed(name, 1, "no areas in this maps file"));
        }
        // maps::parse skips empty lines: number the others to name them in errors.
        let lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.is_empty())
            .map(|(i, _)| i + 1);
        for (e, line) in entries.iter().zip(lines) {
            if let Some(m) = misaligned(e.start, e.end, e.offset) {
                return Err(ProcError::malformed(name, line, m));
            }
        }
        let regions = classify(&entries, None);
        let vmas = entries
            .iter()
            .zip(regions)
            .map(|(e, region)| SavedArea {
                start: e.start,
                end: e.end,
                perms: e.perms.to_string(),
                region,
                path: e.path.clone(),
                offset: e.offset,
            })
            .collect();
        Ok(SavedLayout {
            pid: None,
            exe: None,
            vmas,
            present: Vec::new(),
        })
    }

    /// Parses snapshot JSON and checks that its areas are page-aligned, sorted and disjoint,
    /// with valid permissions.
    pub fn from_json(name: &str, text: &str) -> Result<SavedLayout, ProcError> {
        let layout: SavedLayout = serde_json::from_str(text)
            .map_err(|e| ProcError::malformed(name, e.line(), format!("not a snapshot: {e}")))?;
        let bad = |i: usize, a: &SavedArea, m: String| ProcError::Invalid {
            path: name.to_string(),
            message: format!("vmas[{i}] ({:#x}-{:#x}): {m}", a.start, a.end),
        };
        for (i, a) in layout.vmas.iter().enumerate() {
            Perms::parse(&a.perms).map_err(|m| bad(i, a, m))?;
            if let Some(m) = misaligned(a.start, a.end, a.offset) {
                return Err(bad(i, a, m));
            }
            if i > 0 && a.start < layout.vmas[i - 1].end {
                return Err(bad(i, a, "starts before the previous area ends".into()));
            }
        }
        if layout.vmas.is_empty() {
            return Err(ProcError::Invalid {
                path: name.to_string(),
                message: "the snapshot has no areas".into(),
            });
        }
        Ok(layout)
    }

    /// The kernel model's VMAs for this layout. Each distinct file path is one file of the page
    /// cache (`new_file` makes its id), so two areas of one library share pages as they do in
    /// Linux; a shared area without a file is a shmem file of its own. The main stack grows
    /// down; the vsyscall page, in kernel space, is left out.
    pub fn space(&self, mut new_file: impl FnMut() -> FileId) -> ModelSpace {
        let mut files: HashMap<&str, FileId> = HashMap::new();
        let mut space = AddressSpace::default();
        let mut skipped = Vec::new();
        for (i, a) in self.vmas.iter().enumerate() {
            if a.end > USER_TOP {
                skipped.push((i, Skipped::KernelAddress));
                continue;
            }
            // Checked when the layout was read.
            let perms = Perms::parse(&a.perms).unwrap_or(Perms {
                read: false,
                write: false,
                exec: false,
                shared: false,
            });
            let is_file = !a.path.is_empty() && !a.path.starts_with('[');
            let backing = if is_file {
                let file = *files.entry(a.path.as_str()).or_insert_with(&mut new_file);
                Backing::File {
                    file,
                    offset: a.offset / PAGE,
                }
            } else if perms.shared {
                Backing::File {
                    file: new_file(),
                    offset: 0,
                }
            } else {
                Backing::Anon
            };
            let vma = Vma {
                start: a.start,
                end: a.end,
                prot: Prot {
                    read: perms.read,
                    write: perms.write,
                    exec: perms.exec,
                },
                shared: perms.shared,
                backing,
                grows_down: a.region == Region::Stack,
                huge: false,
                name: a.region.name(),
            };
            // Sorted and disjoint: checked when the layout was read.
            let _ = space.insert(vma);
        }
        ModelSpace {
            space,
            skipped,
            files: files.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAPS: &str = "\
55a000000000-55a000001000 r--p 00000000 08:01 5 /usr/bin/cat
55a000001000-55a000005000 r-xp 00001000 08:01 5 /usr/bin/cat
55a000005000-55a000006000 rw-p 00005000 08:01 5 /usr/bin/cat
55a001000000-55a001021000 rw-p 00000000 00:00 0 [heap]
7f0000000000-7f0000100000 rw-s 00000000 00:00 0
7f0000100000-7f0000200000 r-xp 00002000 08:01 9 /usr/lib/libc.so.6
7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0 [stack]
ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]
";

    fn model(l: &SavedLayout) -> ModelSpace {
        let mut next = 0;
        l.space(|| {
            next += 1;
            next
        })
    }

    #[test]
    fn maps_text_becomes_vmas_with_files_shared_by_path() {
        let l = SavedLayout::from_maps("m", MAPS).unwrap();
        let m = model(&l);
        assert_eq!(m.skipped, vec![(7, Skipped::KernelAddress)]);
        let v: Vec<&Vma> = m.space.iter().collect();
        assert_eq!(v.len(), 7);
        // Both /usr/bin/cat areas are one file, at their own page offsets.
        assert_eq!(v[0].backing, Backing::File { file: 1, offset: 0 });
        assert_eq!(v[1].backing, Backing::File { file: 1, offset: 1 });
        assert_eq!(v[2].backing, Backing::File { file: 1, offset: 5 });
        assert_eq!(v[1].prot, Prot::RX);
        assert!(!v[1].shared && !v[1].grows_down);
        assert_eq!(v[3].backing, Backing::Anon);
        // A shared area without a file is a shmem file of its own.
        assert!(v[4].shared);
        assert_eq!(v[4].backing, Backing::File { file: 2, offset: 0 });
        assert_eq!(v[5].backing, Backing::File { file: 3, offset: 2 });
        assert!(v[6].grows_down && v[6].name == "stack");
        // Two files plus the shmem file.
        assert_eq!(m.files, 2);
    }

    #[test]
    fn json_round_trips_and_old_snapshots_without_offsets_read() {
        let l = SavedLayout::from_maps("m", MAPS).unwrap();
        let text = serde_json::to_string(&l).unwrap();
        assert_eq!(SavedLayout::from_json("s", &text).unwrap(), l);
        let old = r#"{"pid": 7, "exe": null, "vmas": [
            {"start": 4096, "end": 8192, "perms": "r-xp", "region": "text", "path": "/bin/x"}],
            "present": [[4096, 1]]}"#;
        let l = SavedLayout::from_json("s", old).unwrap();
        assert_eq!(
            (l.pid, l.vmas[0].offset, l.present[0]),
            (Some(7), 0, (4096, 1))
        );
    }

    #[test]
    fn bad_layouts_name_the_file_and_the_place() {
        let e = SavedLayout::from_json("s.json", "{\n\"vmas\": 3}")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("s.json:2: not a snapshot"), "{e}");
        let area = |s: u64, e: u64, p: &str| {
            format!(r#"{{"start": {s}, "end": {e}, "perms": "{p}", "region": "anon", "path": ""}}"#)
        };
        for (vmas, want) in [
            (
                area(4096, 4096, "rw-p"),
                "vmas[0] (0x1000-0x1000): 0x1000-0x1000 is not a page-aligned",
            ),
            (
                area(4096, 8000, "rw-p"),
                "vmas[0] (0x1000-0x1f40): 0x1000-0x1f40 is not a page-aligned",
            ),
            (
                area(4096, 8192, "rwz"),
                "vmas[0] (0x1000-0x2000): bad permissions",
            ),
            (
                format!(
                    "{}, {}",
                    area(4096, 16384, "rw-p"),
                    area(8192, 20480, "r--p")
                ),
                "vmas[1] (0x2000-0x5000): starts before the previous area ends",
            ),
        ] {
            let e = SavedLayout::from_json("s.json", &format!(r#"{{"vmas": [{vmas}]}}"#))
                .unwrap_err()
                .to_string();
            assert!(e.starts_with(&format!("s.json: {want}")), "{e}");
        }
        let e = SavedLayout::from_json("s.json", r#"{"vmas": []}"#).unwrap_err();
        assert_eq!(e.to_string(), "s.json: the snapshot has no areas");
        let e = SavedLayout::from_maps("l.maps", "1000-2000 rw-p 0 00:00 0\nzz\n").unwrap_err();
        assert!(e.to_string().starts_with("l.maps:2: "), "{e}");
        let e = SavedLayout::from_maps(
            "l.maps",
            "1000-2000 rw-p 0 00:00 0\n\n3000-3001 r--p 0 0:0 0\n",
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "l.maps:3: 0x3000-0x3001 is not a page-aligned, non-empty range"
        );
        let e = SavedLayout::from_maps("l.maps", "\n").unwrap_err();
        assert_eq!(e.to_string(), "l.maps:1: no areas in this maps file");
    }
}
