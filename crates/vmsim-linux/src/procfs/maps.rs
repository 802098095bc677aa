//! `/proc/PID/maps`: one virtual memory area per line,
//! `START-END PERMS OFFSET MAJOR:MINOR INODE [PATHNAME]` (proc(5)).
use super::hex;
use crate::error::ProcError;
use serde::Serialize;

/// An area's protection and sharing, the `rwxp`/`rwxs` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Perms {
    /// Readable.
    pub read: bool,
    /// Writable.
    pub write: bool,
    /// Executable.
    pub exec: bool,
    /// `s`: shared mapping (`p`: private, copy-on-write).
    pub shared: bool,
}

impl Perms {
    /// Parses the four-letter column.
    pub fn parse(s: &str) -> Result<Self, String> {
        let b = s.as_bytes();
        let bit = |i: usize, c: u8| -> Result<bool, String> {
            match b[i] {
                x if x == c => Ok(true),
                b'-' => Ok(false),
                _ => Err(format!("bad permissions `{s}`")),
            }
        };
        if b.len() != 4 {
            return Err(format!(
                "bad permissions `{s}` (expected 4 letters like r-xp)"
            ));
        }
        let shared = match b[3] {
            b's' => true,
            b'p' => false,
            _ => return Err(format!("bad permissions `{s}` (4th letter is p or s)")),
        };
        Ok(Perms {
            read: bit(0, b'r')?,
            write: bit(1, b'w')?,
            exec: bit(2, b'x')?,
            shared,
        })
    }
}

impl std::fmt::Display for Perms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = |on: bool, ch: char| if on { ch } else { '-' };
        write!(
            f,
            "{}{}{}{}",
            c(self.read, 'r'),
            c(self.write, 'w'),
            c(self.exec, 'x'),
            if self.shared { 's' } else { 'p' }
        )
    }
}

/// One line of `maps`: a virtual memory area.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MapsEntry {
    /// First byte.
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
    /// Protection.
    pub perms: Perms,
    /// Offset into the backing file.
    pub offset: u64,
    /// Device `major:minor` of the backing file (`00:00` for anonymous memory).
    pub dev: (u32, u32),
    /// Inode of the backing file (0 for anonymous memory).
    pub inode: u64,
    /// Backing file, or a pseudo-name like `[heap]`, `[stack]`, `[vdso]`; empty when anonymous.
    pub path: String,
}

impl MapsEntry {
    /// Bytes covered.
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    /// Whether the area is empty (never true of what the kernel writes).
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }

    /// Whether a file backs the area (inode set, path not a `[pseudo]` name).
    pub fn is_file(&self) -> bool {
        self.inode != 0 && !self.path.starts_with('[')
    }
}

/// Parses one `maps` line (also the header lines of `smaps`).
pub fn parse_line(line: &str) -> Result<MapsEntry, String> {
    let mut rest = line;
    let mut field = |what: &str| -> Result<&str, String> {
        let t = rest.trim_start_matches(' ');
        let end = t.find(' ').unwrap_or(t.len());
        if end == 0 {
            return Err(format!("missing {what}"));
        }
        let (f, r) = t.split_at(end);
        rest = r;
        Ok(f)
    };
    let range = field("address range")?;
    let perms = field("permissions")?;
    let offset = field("offset")?;
    let dev = field("device")?;
    let inode = field("inode")?;
    let path = rest.trim_start_matches(' ').to_string();
    let (a, b) = range
        .split_once('-')
        .ok_or_else(|| format!("bad address range `{range}` (expected START-END)"))?;
    let start = hex(a, "start address")?;
    let end = hex(b, "end address")?;
    if end <= start {
        return Err(format!("empty or inverted range `{range}`"));
    }
    let (ma, mi) = dev
        .split_once(':')
        .ok_or_else(|| format!("bad device `{dev}` (expected MAJOR:MINOR)"))?;
    let dev_part = |s: &str| -> Result<u32, String> {
        u32::try_from(hex(s, "device number")?).map_err(|_| format!("bad device `{dev}`"))
    };
    Ok(MapsEntry {
        start,
        end,
        perms: Perms::parse(perms)?,
        offset: hex(offset, "offset")?,
        dev: (dev_part(ma)?, dev_part(mi)?),
        inode: inode
            .parse()
            .map_err(|_| format!("bad inode `{inode}` (expected decimal)"))?,
        path,
    })
}

/// Parses a whole `maps` file; areas must be in increasing, non-overlapping order.
pub fn parse(path: &str, text: &str) -> Result<Vec<MapsEntry>, ProcError> {
    let mut out: Vec<MapsEntry> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.is_empty() {
            continue;
        }
        let e = parse_line(line).map_err(|m| ProcError::malformed(path, i + 1, m))?;
        if let Some(prev) = out.last() {
            if e.start < prev.end {
                return Err(ProcError::malformed(
                    path,
                    i + 1,
                    format!(
                        "area {:#x} starts before the previous one ends ({:#x})",
                        e.start, prev.end
                    ),
                ));
            }
        }
        out.push(e);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_file_anonymous_and_pseudo_lines() {
        let t = "55d0c0a00000-55d0c0a21000 r-xp 00002000 08:01 1234   /usr/bin/my prog\n\
                 7ffd1c000000-7ffd1c021000 rw-p 00000000 00:00 0                          [stack]\n\
                 7ffd1c100000-7ffd1c101000 rw-s 00000000 00:00 0 \n";
        let v = parse("maps", t).unwrap();
        assert_eq!(v.len(), 3);
        assert_eq!(v[0].start, 0x55d0c0a00000);
        assert_eq!(v[0].len(), 0x21000);
        assert_eq!(v[0].offset, 0x2000);
        assert_eq!(v[0].dev, (8, 1));
        assert_eq!(v[0].inode, 1234);
        assert_eq!(v[0].path, "/usr/bin/my prog");
        assert!(v[0].is_file());
        assert_eq!(v[0].perms.to_string(), "r-xp");
        assert_eq!(v[1].path, "[stack]");
        assert!(!v[1].is_file());
        assert!(v[2].perms.shared && v[2].perms.write && !v[2].perms.exec);
        assert_eq!(v[2].path, "");
    }

    #[test]
    fn rejects_malformed_lines_with_file_and_line() {
        let cases = [
            (
                "1000-2000 r-xp 0 08:01 1\nzz-3000 r--p 0 08:01 1\n",
                2,
                "start address",
            ),
            ("2000-1000 r-xp 0 08:01 1\n", 1, "inverted"),
            ("1000-2000 rwq 0 08:01 1\n", 1, "permissions"),
            ("1000-2000 r-xq 0 08:01 1\n", 1, "permissions"),
            ("1000-2000 r-xp 0 0801 1\n", 1, "device"),
            ("1000-2000 r-xp 0 08:01 x1\n", 1, "inode"),
            ("1000-2000 r-xp\n", 1, "missing offset"),
            (
                "1000-3000 r-xp 0 08:01 1\n2000-4000 r-xp 0 08:01 1\n",
                2,
                "before",
            ),
        ];
        for (text, line, needle) in cases {
            let e = parse("/proc/1/maps", text).unwrap_err().to_string();
            assert!(
                e.starts_with(&format!("/proc/1/maps:{line}: ")) && e.contains(needle),
                "{text:?} gave {e}"
            );
        }
    }

    #[test]
    fn this_process_maps_parse() {
        if cfg!(target_os = "linux") {
            let t = std::fs::read_to_string("/proc/self/maps").unwrap();
            let v = parse("/proc/self/maps", &t).unwrap();
            assert!(v.iter().any(|e| e.path == "[stack]"));
        }
    }
}
