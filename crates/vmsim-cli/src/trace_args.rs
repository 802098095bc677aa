//! The flags of the trace formats that need more than their bytes: libCacheSim's csv columns
//! (the names of its `--trace-type-params`), how object ids and sizes become pages, shared by
//! every command that reads a trace.
use vmsim_trace::cachesim_csv::CsvOptions;
use vmsim_trace::objects::KeyOptions;
use vmsim_trace::ReadOptions;

/// libCacheSim's reader options, as flags.
#[derive(clap::Args, Debug, Clone, Default)]
#[command(next_help_heading = "libCacheSim traces (csv, keys, oracleGeneral)")]
pub struct TraceOptions {
    /// csv: the column of the request time (from 1), checked to be a number.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub time_col: Option<u16>,
    /// csv: the column of the object id (from 1).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub obj_id_col: Option<u16>,
    /// csv: the column of the object size in bytes (from 1).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub obj_size_col: Option<u16>,
    /// csv: the column of the operation (from 1): set, add, replace, cas, append, prepend,
    /// incr, decr, write, update and w write; anything else reads.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub op_col: Option<u16>,
    /// csv: the first line names the columns.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub has_header: Option<bool>,
    /// csv: the column separator, one character (`\t` or `tab` for a tab).
    #[arg(long, value_name = "CHAR", value_parser = parse_delimiter)]
    pub delimiter: Option<u8>,
    /// Object ids are numbers, used as page numbers as they are; `false`: every id is a
    /// string, hashed (FNV-1a) into 2^35 pages.
    #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set)]
    pub obj_id_is_num: bool,
    /// An object of S bytes touches ceil(S / 4096) consecutive pages from its id on, instead
    /// of one page (libCacheSim's --ignore-obj-size, the default, ignores sizes).
    #[arg(long)]
    pub obj_size_pages: bool,
}

fn parse_delimiter(s: &str) -> Result<u8, String> {
    match s {
        "\\t" | "tab" => Ok(b'\t'),
        _ if s.len() == 1 && s.is_ascii() => Ok(s.as_bytes()[0]),
        _ => Err(format!("`{s}` is not one ASCII character")),
    }
}

impl TraceOptions {
    /// The reader's options.
    pub fn options(&self) -> ReadOptions {
        let col = |c: Option<u16>| c.map(usize::from);
        ReadOptions {
            keys: KeyOptions {
                obj_id_is_num: self.obj_id_is_num,
                obj_size_pages: self.obj_size_pages,
            },
            csv: CsvOptions {
                time_col: col(self.time_col),
                obj_id_col: col(self.obj_id_col),
                obj_size_col: col(self.obj_size_col),
                op_col: col(self.op_col),
                has_header: self.has_header.unwrap_or(false),
                delimiter: self.delimiter.unwrap_or(b','),
            },
        }
    }
}
