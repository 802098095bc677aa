//! `vmsim convert`: rewrite a trace in another format.
use anyhow::{Context, Result};
use std::io::Write;
use std::path::{Path, PathBuf};
use vmsim_trace::{Format, Record, TraceWriter};

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
    #[arg(long)]
    pub from: Option<Format>,
    /// Output format (from the extension when omitted: .vmt, .lackey, .txt/.trace, .pages,
    /// .pgt). Page-number formats keep the 4 KiB pages each access touches.
    #[arg(long)]
    pub to: Option<Format>,
}

/// The format to write: `to`, or the one `path`'s extension names.
pub fn output_format(path: &Path, to: Option<Format>) -> Result<Format> {
    if let Some(f) = to {
        return Ok(f);
    }
    path.extension()
        .and_then(|e| e.to_str())
        .and_then(Format::from_extension)
        .ok_or_else(|| {
            crate::exit::usage(format!(
                "cannot tell the output format of {} from its extension: use --to text|lackey|vmt|pages|pgt",
                path.display()
            ))
        })
}

/// Opens `path` for writing (`-` is stdout).
pub fn create_output(path: &Path) -> Result<Box<dyn Write>> {
    Ok(if path.as_os_str() == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        )
    })
}

/// Runs `vmsim convert`.
pub fn run(args: Args) -> Result<()> {
    let to = output_format(&args.output, args.to)?;
    let (mut reader, _) = crate::cmd::run::open_trace(&Some(args.input.clone()), args.from)?;
    let mut w = TraceWriter::new(create_output(&args.output)?, to)?;
    let mut buf: Vec<Record> = Vec::with_capacity(8192);
    let mut n = 0u64;
    while reader.read_batch(&mut buf)? > 0 {
        for r in &buf {
            w.write(r)?;
        }
        n += buf.len() as u64;
    }
    w.finish()?.flush()?;
    eprintln!(
        "vmsim: converted {n} records from {} to {to}",
        reader.format()
    );
    Ok(())
}
