//! A running process's working set, measured the way Linux offers it: writing `1` to
//! `/proc/PID/clear_refs` clears the accessed bits of all its pages (and the pages'
//! referenced flags), and after an interval `Referenced:` in `/proc/PID/smaps` counts the pages
//! touched since (Documentation/admin-guide/mm/soft-dirty.rst and proc.rst). Referenced memory
//! of areas backed by a file counts as file, the rest as anonymous. A shared file page also
//! counts when another process marked it referenced (by read(2), say): the page's flag is one
//! for all its users, so the file part is an upper bound. A kernel that samples accesses itself
//! (DAMON, `/sys/kernel/mm/damon`) clears accessed bits too, so pages it sampled in the interval
//! may be missing: the anonymous part can then be a slight undercount.
use crate::error::ProcError;
use crate::inspect::Target;
use crate::procfs::smaps::{self, SmapsEntry};
use serde::Serialize;

/// The referenced memory of one interval.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct WssSample {
    /// Referenced KiB in anonymous areas (heap, stacks, anonymous mmap).
    pub anon_kib: u64,
    /// Referenced KiB in file-backed areas (text, libraries, mapped files).
    pub file_kib: u64,
}

impl WssSample {
    /// Sums the areas' `Referenced` figures.
    pub fn of(areas: &[SmapsEntry]) -> Self {
        let mut s = WssSample::default();
        for a in areas {
            if a.area.is_file() {
                s.file_kib += a.counts.referenced;
            } else {
                s.anon_kib += a.counts.referenced;
            }
        }
        s
    }

    /// Anonymous plus file.
    pub fn total_kib(&self) -> u64 {
        self.anon_kib + self.file_kib
    }
}

/// Clears the referenced bits of every page of `target`.
pub fn clear_refs(target: Target) -> Result<(), ProcError> {
    let p = target.dir().join("clear_refs");
    std::fs::write(&p, "1").map_err(|e| ProcError::io(p, e))
}

/// Reads `target`'s areas with their `Referenced` figures.
pub fn areas(target: Target) -> Result<Vec<SmapsEntry>, ProcError> {
    let p = target.dir().join("smaps");
    smaps::parse(&p.display().to_string(), &crate::procfs::read(&p)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::{Mapping, PAGE};

    #[test]
    fn referenced_counts_the_pages_touched_since_clearing() {
        // At a fixed address far from everything, so that the kernel merges it with no
        // neighbouring area.
        let m = Mapping::anonymous(Some(0x3f00_0000_0000), 256 * PAGE, false).unwrap();
        for p in 0..256 {
            m.write(p * PAGE, 1);
        }
        let find = |v: &[SmapsEntry]| {
            v.iter()
                .find(|a| a.area.start == m.addr())
                .map(|a| a.counts.referenced)
                .unwrap()
        };
        // The kernel's own access sampling (DAMON, when it runs) may clear an accessed bit
        // between a write and the read-back, so a page or two can go missing, never appear.
        let mostly = |kib: u64, want: u64| kib <= want && kib >= want / 2;
        let all = find(&areas(Target::SelfProcess).unwrap());
        assert!(mostly(all, 1024), "{all} KiB referenced of 1024");
        clear_refs(Target::SelfProcess).unwrap();
        assert_eq!(find(&areas(Target::SelfProcess).unwrap()), 0);
        for p in 0..64 {
            m.write(p * 2 * PAGE, 2);
        }
        let v = areas(Target::SelfProcess).unwrap();
        let some = find(&v);
        assert!(mostly(some, 256), "{some} KiB referenced of 256");
        let s = WssSample::of(&v);
        assert!(s.anon_kib >= 256 && s.file_kib > 0, "{s:?}");
    }
}
