//! `vmsim gen`: write a synthetic, seeded page stream in any trace format.
use anyhow::{Context, Result};
use std::path::PathBuf;
use vmsim_core::{AccessKind, PageSize};
use vmsim_trace::synth::{Generator, Workload};
use vmsim_trace::{Format, Record, TraceWriter};

/// Arguments of `vmsim gen`.
#[derive(clap::Args)]
#[command(
    after_help = "Workloads (NAME[:KEY=VALUE,...], mixtures joined with +, weights W*):\n  \
    seq[:pages=N]                 a scan (wrapping after N pages)\n  \
    loop:pages=N                  N pages in order, over and over\n  \
    uniform:pages=N               independent uniform references\n  \
    zipf:pages=N[,alpha=A]        page of rank r with probability ~ 1/r^A (A = 1.0)\n  \
    hotcold:pages=N[,hot=F,p=F]   a fraction `hot` of pages gets a fraction `p` of references\n  \
    phases:ws=N,len=N[,shift=N]   a working set of ws pages moving by shift every len references\n  \
    every pattern also takes base=PAGE and writes=FRACTION; counts take k, M, G (powers of ten)\n\n\
    Examples:\n  vmsim gen zipf:pages=1M,alpha=1.0 -n 10M -o zipf.pgt\n  \
    vmsim gen '0.9*loop:pages=100 + 0.1*seq:base=1000000' -n 50000 -o mix.pages\n  \
    vmsim gen phases:ws=500,len=100k -n 1M -o phases.vmt --page-size 4096"
)]
pub struct Args {
    /// The workload spec.
    pub workload: String,
    /// References to generate.
    #[arg(short = 'n', long, default_value = "1M", value_parser = vmsim_trace::synth::parse_count)]
    pub count: u64,
    /// Output file (`-` for stdout).
    #[arg(short, long, default_value = "-")]
    pub output: PathBuf,
    /// Output format (from the extension when omitted; `pages` on stdout).
    #[arg(long, value_name = "FORMAT", value_parser = crate::cmd::run::writable_format_parser())]
    pub format: Option<Format>,
    /// Seed of the generator.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Page size for address formats (text, lackey, vmt): page p is written as the one-byte
    /// access at p × page size.
    #[arg(long, default_value = "4K")]
    pub page_size: PageSize,
}

/// Runs `vmsim gen`.
pub fn run(a: Args) -> Result<()> {
    let workload: Workload = a
        .workload
        .parse()
        .map_err(|e| crate::exit::usage(format!("{e}")))?;
    workload
        .check_fits(a.count)
        .map_err(|e| crate::exit::usage(format!("{e}")))?;
    let format = if a.output.as_os_str() == "-" {
        (a.format.unwrap_or(Format::Pages), None)
    } else {
        crate::cmd::convert::output_format(&a.output, a.format, "--format")?
    };
    let (format, codec) = format;
    let out = crate::output::Output::create(&a.output, &[])?;
    let mut w = TraceWriter::compressed(out, format, codec)?;
    let shift = a.page_size.shift();
    for (page, write) in Generator::new(&workload, a.seed).take(a.count as usize) {
        if format.is_pages() {
            w.write_page((page, write))?;
        } else {
            let addr = page
                .checked_shl(shift)
                .filter(|&x| x >> shift == page)
                .with_context(|| {
                    format!("page {page:#x} is beyond 64-bit addresses at this page size")
                })?;
            let kind = if write {
                AccessKind::Write
            } else {
                AccessKind::Read
            };
            w.write(&Record::new(kind, addr))?;
        }
    }
    // Only a complete trace appears at the output's name.
    w.finish()?.commit()?;
    Ok(())
}
