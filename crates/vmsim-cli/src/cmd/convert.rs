//! `vmsim convert`: rewrite a trace in another format.
use crate::output::Output;
use anyhow::Result;
use std::path::{Path, PathBuf};
use vmsim_core::PageSize;
use vmsim_trace::{Format, PageRef, Record, TraceWriter};

/// Arguments of `vmsim convert`.
#[derive(clap::Args)]
#[command(after_help = "Examples:\n  vmsim convert prog.lackey prog.vmt      \
    # valgrind lackey output to the compact format\n  \
    vmsim convert prog.vmt - --to text | head\n  \
    valgrind --tool=lackey --trace-mem=yes --log-fd=3 ./prog 3>&1 >/dev/null | vmsim convert - prog.vmt")]
pub struct Args {
    /// Input trace (`-` for stdin).
    pub input: PathBuf,
    /// Output trace (`-` for stdout).
    pub output: PathBuf,
    /// Input format (detected from the content when omitted).
    #[arg(long, value_name = "FORMAT", value_parser = crate::cmd::run::format_parser())]
    pub from: Option<Format>,
    /// Output format (from the extension when omitted: .vmt, .lackey, .txt/.trace, .pages,
    /// .pgt). Page-number formats keep the 4 KiB pages each access touches.
    #[arg(long, value_name = "FORMAT", value_parser = crate::cmd::run::format_parser())]
    pub to: Option<Format>,
}

/// The format to write: `to`, or the one `path`'s extension names; `flag` is the command's
/// flag for the format, named in the error.
pub fn output_format(path: &Path, to: Option<Format>, flag: &str) -> Result<Format> {
    if let Some(f) = to {
        return Ok(f);
    }
    path.extension()
        .and_then(|e| e.to_str())
        .and_then(Format::from_extension)
        .ok_or_else(|| {
            crate::exit::usage(format!(
                "cannot tell the output format of {} from its extension: use {flag} text|lackey|vmt|pages|pgt",
                path.display()
            ))
        })
}

/// Runs `vmsim convert`.
pub fn run(args: Args) -> Result<()> {
    let to = output_format(&args.output, args.to, "--to")?;
    // Refused before anything is opened for writing when it is the input itself.
    let out = Output::create(&args.output, &[&args.input])?;
    let (mut reader, _) = crate::cmd::run::open_trace(&Some(args.input.clone()), args.from)?;
    let mut w = TraceWriter::new(out, to)?;
    let mut n = 0u64;
    if reader.format().is_pages() && to.is_pages() {
        // Page numbers go across as they are: through byte addresses, pages at and above 2^52
        // would not fit.
        let mut buf: Vec<PageRef> = Vec::with_capacity(8192);
        while reader.read_pages(PageSize::SIZE_4K, &mut buf)? > 0 {
            for &p in &buf {
                w.write_page(p)?;
            }
            n += buf.len() as u64;
        }
    } else {
        let mut buf: Vec<Record> = Vec::with_capacity(8192);
        while reader.read_batch(&mut buf)? > 0 {
            for r in &buf {
                w.write(r)?;
            }
            n += buf.len() as u64;
        }
    }
    // Only a complete trace appears at the output's name.
    w.finish()?.commit()?;
    eprintln!(
        "vmsim: converted {n} records from {} to {to}",
        reader.format()
    );
    Ok(())
}
