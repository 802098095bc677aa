//! `vmsim convert`: rewrite a trace in another format.
use crate::output::Output;
use anyhow::Result;
use std::path::{Path, PathBuf};
use vmsim_core::PageSize;
use vmsim_trace::{Codec, Format, PageRef, Record, TraceWriter};

/// Arguments of `vmsim convert`.
#[derive(clap::Args)]
#[command(after_help = "Examples:\n  vmsim convert prog.lackey prog.vmt      \
    # valgrind lackey output to the compact format\n  \
    vmsim convert prog.vmt - --to text | head\n  \
    vmsim convert prog.lackey prog.champsimtrace.xz   # for ChampSim, xz-compressed\n  \
    vmsim convert big.vmt - --to vmt.zst > big.vmt.zst\n  \
    valgrind --tool=lackey --trace-mem=yes --log-fd=3 ./prog 3>&1 >/dev/null | vmsim convert - prog.vmt")]
pub struct Args {
    /// Input trace (`-` for stdin).
    pub input: PathBuf,
    /// Output trace (`-` for stdout).
    pub output: PathBuf,
    /// Input format (detected from the content when omitted).
    #[arg(long, value_name = "FORMAT", value_parser = crate::cmd::run::format_parser())]
    pub from: Option<Format>,
    /// Output format, with `.zst`, `.xz` or `.gz` to compress it (from the name when omitted:
    /// .vmt, .lackey, .txt/.trace, .pages, .pgt, .champsim/.champsimtrace, then the codec's
    /// suffix). Page-number formats keep the 4 KiB pages each access touches.
    #[arg(long, value_name = "FORMAT[.CODEC]", value_parser = crate::cmd::run::output_format_parser())]
    pub to: Option<(Format, Option<Codec>)>,
    #[command(flatten)]
    pub read: crate::trace_args::TraceOptions,
}

/// The format to write: `to`, or the one `path`'s name gives; and the codec the name's suffix
/// names (`.zst`, `.xz`, `.gz`). `flag` is the command's flag for the format, named in the
/// error.
pub fn output_format(
    path: &Path,
    to: Option<Format>,
    flag: &str,
) -> Result<(Format, Option<Codec>)> {
    let (named, codec) = path
        .file_name()
        .and_then(|n| n.to_str())
        .map(Format::from_file_name)
        .unwrap_or_default();
    match to.or(named) {
        Some(f) if !f.writable() => Err(crate::exit::usage(format!(
            "vmsim reads {f} traces but does not write them: use {flag} with a format it writes"
        ))),
        Some(f) => Ok((f, codec)),
        None => Err(crate::exit::usage(format!(
            "cannot tell the output format of {} from its extension: use {flag} \
             text|lackey|vmt|pages|pgt|champsim|champsim-cloudsuite",
            path.display()
        ))),
    }
}

/// Runs `vmsim convert`.
pub fn run(args: Args) -> Result<()> {
    let (to, named_codec) = output_format(&args.output, args.to.map(|t| t.0), "--to")?;
    let codec = match args.to {
        Some((_, c)) => c,
        None => named_codec,
    };
    // Refused before anything is opened for writing when it is the input itself.
    let out = Output::create(&args.output, &[&args.input])?;
    let input = Some(args.input.clone());
    let (mut reader, _) = crate::cmd::run::open_trace(&input, args.from, &args.read.options())?;
    let mut w = TraceWriter::compressed(out, to, codec)?;
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
