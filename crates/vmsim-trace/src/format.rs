//! The trace formats and how one is recognised from the first bytes of a trace.
use std::fmt;
use std::str::FromStr;

/// A trace format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// One access per line: `[KIND] ADDR [SIZE] [pid=N] [cpu=N]`.
    Text,
    /// valgrind lackey's `--trace-mem=yes` output.
    Lackey,
    /// vmsim's compact binary format.
    Vmt,
    /// One page number per line, see [`crate::pages`].
    Pages,
    /// vmsim's binary page-number format, see [`crate::pgt`].
    Pgt,
}

impl Format {
    /// All formats.
    pub const ALL: [Format; 5] = [
        Format::Text,
        Format::Lackey,
        Format::Vmt,
        Format::Pages,
        Format::Pgt,
    ];

    /// The name used on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Lackey => "lackey",
            Format::Vmt => "vmt",
            Format::Pages => "pages",
            Format::Pgt => "pgt",
        }
    }

    /// Whether the format carries page numbers rather than byte addresses.
    pub const fn is_pages(self) -> bool {
        matches!(self, Format::Pages | Format::Pgt)
    }

    /// The format a file extension suggests (`.vmt`, `.lackey`, `.txt`/`.trace`, `.pages`,
    /// `.pgt`).
    pub fn from_extension(ext: &str) -> Option<Format> {
        match ext.to_ascii_lowercase().as_str() {
            "vmt" => Some(Format::Vmt),
            "pgt" => Some(Format::Pgt),
            "pages" => Some(Format::Pages),
            "lackey" => Some(Format::Lackey),
            "txt" | "trace" | "text" => Some(Format::Text),
            _ => None,
        }
    }

    /// Whether `head` holds enough to decide the format: a binary magic, or a complete line
    /// that is neither blank nor a valgrind `==PID==` message.
    pub fn decided_by(head: &[u8]) -> bool {
        if head.starts_with(crate::vmt::MAGIC) || head.starts_with(crate::pgt::MAGIC) {
            return true;
        }
        head.split(|&b| b == b'\n')
            .rev()
            .skip(1) // the part after the last newline is not a complete line
            .any(|line| !line.starts_with(b"==") && !line.trim_ascii().is_empty())
    }

    /// Recognises a format from the start of a trace: the `vmt` or `pgt` magic, or a first
    /// meaningful line in lackey's shape (`I  ADDR,SIZE` or ` L|S|M ADDR,SIZE`); otherwise text.
    /// (A page-number text trace looks like an address trace: it is named, not detected.)
    pub fn detect(head: &[u8]) -> Format {
        if head.starts_with(crate::vmt::MAGIC) {
            return Format::Vmt;
        }
        if head.starts_with(crate::pgt::MAGIC) {
            return Format::Pgt;
        }
        let text = String::from_utf8_lossy(head);
        for line in text.lines() {
            if line.starts_with("==") || line.trim().is_empty() {
                continue;
            }
            return if crate::lackey::looks_like(line) {
                Format::Lackey
            } else {
                Format::Text
            };
        }
        Format::Text
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not a trace format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown trace format `{0}` (expected text, lackey, vmt, pages or pgt)")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;
    fn from_str(s: &str) -> Result<Self, UnknownFormat> {
        Format::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| UnknownFormat(s.to_string()))
    }
}
