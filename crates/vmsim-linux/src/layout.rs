//! What each area of an address space is for: the program's text, read-only data, data and
//! bss; the heap; anonymous mmap memory; shared libraries and other mapped files; the stack;
//! the vDSO and its data page (vvar). Classified from the `maps` line alone, the way one reads
//! it by eye: the executable's own mappings by path, bss as the anonymous area right after its
//! data, pseudo-files by name.
use crate::procfs::maps::MapsEntry;
use serde::{Deserialize, Serialize};

/// The role of an area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Region {
    /// The executable's code.
    Text,
    /// The executable's read-only data (and ELF headers).
    Rodata,
    /// The executable's initialised data.
    Data,
    /// The executable's zero-initialised data: anonymous memory right after its data.
    Bss,
    /// The `brk` heap.
    Heap,
    /// Anonymous mmap memory (malloc arenas, thread stacks, guard pages, reservations).
    Anon,
    /// A shared library.
    Library,
    /// Another mapped file.
    File,
    /// The main thread's stack.
    Stack,
    /// The vDSO code.
    Vdso,
    /// The vDSO's data pages.
    Vvar,
    /// The legacy vsyscall page (kernel address space).
    Vsyscall,
    /// Another kernel-named area (`[anon:...]`, `[uprobes]`...).
    Other,
}

impl Region {
    /// A short name for tables.
    pub fn name(self) -> &'static str {
        match self {
            Region::Text => "text",
            Region::Rodata => "rodata",
            Region::Data => "data",
            Region::Bss => "bss",
            Region::Heap => "heap",
            Region::Anon => "anon",
            Region::Library => "library",
            Region::File => "file",
            Region::Stack => "stack",
            Region::Vdso => "vdso",
            Region::Vvar => "vvar",
            Region::Vsyscall => "vsyscall",
            Region::Other => "other",
        }
    }
}

/// Classifies every area; `exe` is the executable's path (`/proc/PID/exe`) when readable.
pub fn classify(areas: &[MapsEntry], exe: Option<&str>) -> Vec<Region> {
    let mut out = Vec::with_capacity(areas.len());
    for (i, a) in areas.iter().enumerate() {
        let own = exe.is_some_and(|e| a.path == e || a.path == format!("{e} (deleted)"));
        let r = match a.path.as_str() {
            "[heap]" => Region::Heap,
            "[stack]" => Region::Stack,
            "[vdso]" => Region::Vdso,
            p if p.starts_with("[vvar") => Region::Vvar,
            "[vsyscall]" => Region::Vsyscall,
            "" => {
                let after_data = i > 0
                    && out.get(i - 1) == Some(&Region::Data)
                    && areas[i - 1].end == a.start
                    && a.perms.write;
                if after_data {
                    Region::Bss
                } else {
                    Region::Anon
                }
            }
            p if p.starts_with('[') => Region::Other,
            _ if own && a.perms.exec => Region::Text,
            _ if own && a.perms.write => Region::Data,
            _ if own => Region::Rodata,
            p if is_library(p) => Region::Library,
            _ => Region::File,
        };
        out.push(r);
    }
    out
}

/// `lib*.so*`, `ld-linux*` and other `*.so` names.
fn is_library(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.contains(".so") || name.starts_with("ld-")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::procfs::maps::parse;

    #[test]
    fn classifies_a_typical_layout() {
        let t = "\
55a000000000-55a000001000 r--p 00000000 08:01 5 /usr/bin/cat
55a000001000-55a000005000 r-xp 00001000 08:01 5 /usr/bin/cat
55a000005000-55a000006000 rw-p 00005000 08:01 5 /usr/bin/cat
55a000006000-55a000008000 rw-p 00000000 00:00 0
55a001000000-55a001021000 rw-p 00000000 00:00 0 [heap]
7f0000000000-7f0000100000 rw-p 00000000 00:00 0
7f0000100000-7f0000200000 r-xp 00000000 08:01 9 /usr/lib/x86_64-linux-gnu/libc.so.6
7f0000200000-7f0000300000 r--p 00000000 08:01 10 /usr/lib/locale/C.utf8/LC_CTYPE
7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0 [stack]
7ffc00100000-7ffc00104000 r--p 00000000 00:00 0 [vvar]
7ffc00104000-7ffc00106000 r-xp 00000000 00:00 0 [vdso]
ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]
";
        let a = parse("maps", t).unwrap();
        let r = classify(&a, Some("/usr/bin/cat"));
        use Region::*;
        assert_eq!(
            r,
            vec![Rodata, Text, Data, Bss, Heap, Anon, Library, File, Stack, Vvar, Vdso, Vsyscall]
        );
        // Without the executable's path its mappings are just files.
        assert_eq!(classify(&a, None)[1], File);
    }
}
