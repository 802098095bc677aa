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
    /// ChampSim's `input_instr` records, see [`crate::champsim`].
    ChampSim,
    /// ChampSim's CloudSuite records (`cloudsuite_instr`), see [`crate::champsim`].
    ChampSimCloudSuite,
    /// libCacheSim's `oracleGeneral` binary, see [`crate::oracle_general`].
    OracleGeneral,
    /// libCacheSim's `oracleGeneralOpNS` binary, see [`crate::oracle_general`].
    OracleGeneralOpNs,
    /// libCacheSim's `csv` traces, see [`crate::cachesim_csv`].
    Csv,
    /// libCacheSim's `txt` traces, one object id per line, see [`crate::key_text`].
    Keys,
    /// `perf script` samples with data addresses, see [`crate::perf_script`].
    Perf,
}

impl Format {
    /// All formats.
    pub const ALL: [Format; 12] = [
        Format::Text,
        Format::Lackey,
        Format::Vmt,
        Format::Pages,
        Format::Pgt,
        Format::ChampSim,
        Format::ChampSimCloudSuite,
        Format::OracleGeneral,
        Format::OracleGeneralOpNs,
        Format::Csv,
        Format::Keys,
        Format::Perf,
    ];

    /// The name used on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Lackey => "lackey",
            Format::Vmt => "vmt",
            Format::Pages => "pages",
            Format::Pgt => "pgt",
            Format::ChampSim => "champsim",
            Format::ChampSimCloudSuite => "champsim-cloudsuite",
            Format::OracleGeneral => "oracleGeneral",
            Format::OracleGeneralOpNs => "oracleGeneralOpNS",
            Format::Csv => "csv",
            Format::Keys => "keys",
            Format::Perf => "perf",
        }
    }

    /// Whether vmsim can write the format (libCacheSim's formats and perf's are read only).
    pub const fn writable(self) -> bool {
        !matches!(
            self,
            Format::OracleGeneral
                | Format::OracleGeneralOpNs
                | Format::Csv
                | Format::Keys
                | Format::Perf
        )
    }

    /// Whether the format carries cache objects (libCacheSim's), read as page numbers.
    pub const fn is_objects(self) -> bool {
        matches!(
            self,
            Format::OracleGeneral | Format::OracleGeneralOpNs | Format::Csv | Format::Keys
        )
    }

    /// Whether the format carries page numbers rather than byte addresses.
    pub const fn is_pages(self) -> bool {
        matches!(self, Format::Pages | Format::Pgt) || self.is_objects()
    }

    /// The format a file extension suggests (`.vmt`, `.lackey`, `.txt`/`.trace`, `.pages`,
    /// `.pgt`, `.champsim`/`.champsimtrace`, `.oracleGeneral`, `.csv`, `.keys`, `.perf`).
    pub fn from_extension(ext: &str) -> Option<Format> {
        match ext.to_ascii_lowercase().as_str() {
            "vmt" => Some(Format::Vmt),
            "pgt" => Some(Format::Pgt),
            "pages" => Some(Format::Pages),
            "lackey" => Some(Format::Lackey),
            "txt" | "trace" | "text" => Some(Format::Text),
            "champsim" | "champsimtrace" => Some(Format::ChampSim),
            "oraclegeneral" => Some(Format::OracleGeneral),
            "oraclegeneralopns" => Some(Format::OracleGeneralOpNs),
            "csv" => Some(Format::Csv),
            "keys" => Some(Format::Keys),
            "perf" => Some(Format::Perf),
            _ => None,
        }
    }

    /// The format and codec a file name suggests: a codec suffix (`.zst`, `.xz`, `.gz`) is
    /// set aside, then libCacheSim's `NAME.oracleGeneral[OpNS][.bin]` and ChampSim's
    /// `NAME.champsimtrace` are recognised anywhere in the name, else the last extension
    /// decides. `600.perlbench_s-210B.champsimtrace.xz` is ChampSim in xz.
    pub fn from_file_name(name: &str) -> (Option<Format>, Option<crate::compress::Codec>) {
        let (stem, codec) = crate::compress::Codec::strip(name);
        let lower = stem.to_ascii_lowercase();
        let format = if lower.contains(".oraclegeneralopns") {
            Some(Format::OracleGeneralOpNs)
        } else if lower.contains(".oraclegeneral") {
            Some(Format::OracleGeneral)
        } else if lower.contains(".champsimtrace") {
            Some(Format::ChampSim)
        } else {
            stem.rsplit_once('.')
                .and_then(|(_, ext)| Format::from_extension(ext))
        };
        (format, codec)
    }

    /// Whether a name-given format is taken over content detection: the formats whose content
    /// cannot be told apart for sure (a `.txt`, `.trace` or `.vmt` name is not trusted: the
    /// content decides).
    pub const fn named_over_content(self) -> bool {
        !matches!(
            self,
            Format::Text | Format::Vmt | Format::Pgt | Format::Perf
        )
    }
    /// Whether `head` holds enough to decide the format: a binary magic, or a complete line
    /// that is neither blank nor a valgrind `==PID==` message.
    pub fn decided_by(head: &[u8]) -> bool {
        if head.starts_with(crate::vmt::MAGIC) || head.starts_with(crate::pgt::MAGIC) {
            return true;
        }
        if head.contains(&0) {
            // Binary without a magic: enough records to judge their fields.
            return head.len() >= BINARY_HEAD;
        }
        head.split(|&b| b == b'\n')
            .rev()
            .skip(1) // the part after the last newline is not a complete line
            .any(meaningful)
    }

    /// Recognises a format from the start of a trace (decompressed): the `vmt` or `pgt`
    /// magic; binary without a magic whose records look like `oracleGeneral`'s, or else like
    /// ChampSim's ([`crate::oracle_general::looks_like`], [`crate::champsim::looks_like`]); or a
    /// first meaningful line in lackey's shape (`I  ADDR,SIZE` or ` L|S|M ADDR,SIZE`) or a
    /// `perf script` sample's; otherwise text. (A page-number text trace looks like an address
    /// trace, and libCacheSim's csv and txt like text: they are named, not detected.)
    pub fn detect(head: &[u8]) -> Format {
        if head.starts_with(crate::vmt::MAGIC) {
            return Format::Vmt;
        }
        if head.starts_with(crate::pgt::MAGIC) {
            return Format::Pgt;
        }
        if head.contains(&0) {
            if crate::oracle_general::looks_like(head) {
                return Format::OracleGeneral;
            }
            if crate::champsim::looks_like(head) {
                return Format::ChampSim;
            }
        }
        let text = String::from_utf8_lossy(head);
        for line in text.lines() {
            if !meaningful(line.as_bytes()) {
                continue;
            }
            return if crate::lackey::looks_like(line) {
                Format::Lackey
            } else if crate::perf_script::looks_like(line) {
                Format::Perf
            } else {
                Format::Text
            };
        }
        Format::Text
    }
}

/// Bytes of an unnamed binary trace read before its records are judged.
const BINARY_HEAD: usize = 4096;

/// Whether a line can decide a text format: not blank, not a valgrind `==PID==` message, not a
/// `#` comment (perf script's header).
fn meaningful(line: &[u8]) -> bool {
    !line.starts_with(b"==") && !line.starts_with(b"#") && !line.trim_ascii().is_empty()
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not a trace format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown trace format `{0}` (expected text, lackey, vmt, pages, pgt, champsim, \
     champsim-cloudsuite, oracleGeneral, oracleGeneralOpNS, csv, keys or perf)"
)]
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
