//! The `vmsim` binary: argument parsing and wiring only. Every subcommand lives in `cmd/`, parses
//! its flags with clap, validates them into a configuration and calls the libraries.
use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod cmd;
mod exit;
mod machine_args;
mod output;
mod plot;
mod spool;
mod trace_args;
mod virt_args;

/// vmsim: a memory-virtualization simulator and toolkit.
#[derive(Parser)]
#[command(name = "vmsim", version, about, long_about = None, propagate_version = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Replay a trace through a machine and print TLB, walk, fault and page-table statistics.
    Run(cmd::run::Args),
    /// Write one self-contained HTML report of a run: summary, machine, charts (no network).
    Report(cmd::report::Args),
    /// Serve the interactive explorer: translate addresses step by step in a browser.
    Serve(cmd::serve::Args),
    /// Translate addresses step by step: TLB sets, page-walk caches, entries, faults.
    Explain(cmd::explain::Args),
    /// List the built-in machine presets, or print one as TOML.
    Presets(cmd::presets::Args),
    /// Convert a trace between formats (text, valgrind lackey, compact vmt).
    Convert(cmd::convert::Args),
    /// Miss-ratio curves: exact LRU for every size in one pass, OPT, SHARDS sampling.
    Mrc(cmd::mrc::Args),
    /// OSTEP homework simulators: a drop-in for the textbook's scripts, with explained answers.
    Ostep(cmd::ostep::Args),
    /// Sweep RAM across a working set and show the thrashing knee.
    Thrash(cmd::thrash::Args),
    /// Run a hand-written multi-process scenario (TOML steps: exec, mmap, fork, replay, exit...).
    Workload(cmd::workload::Args),
    /// Compare page replacement policies over a trace's page stream (policies x frame counts).
    Policy(cmd::policy::Args),
    /// Write a synthetic, seeded page stream (scan, loop, uniform, Zipf, hot/cold, phases, mixes).
    Gen(cmd::gen::Args),
    /// Working sets: mean size by window, size over time, reuse distances, thrashing.
    Ws(cmd::ws::Args),
    /// Page-table organisations side by side: memory and references per translation.
    Pagetable(cmd::pagetable::Args),
    /// Heap allocators (free list, segregated, buddy, slab): fragmentation, search, failures.
    Malloc(cmd::malloc::Args),
    /// Check a program's malloc/free/load/store trace like a memory checker; brk and mmap shown.
    Memcheck(cmd::memcheck::Args),
    /// Segments or base-and-bounds spaces in physical memory: fits, holes, compaction's cost.
    Segments(cmd::segments::Args),
    /// A live process's virtual memory: areas, RSS/PSS/USS, pages, page tables vs VmPTE.
    Inspect(cmd::inspect::Args),
    /// Record a real program's accesses under valgrind (or its page faults under perf).
    Record(cmd::record::Args),
    /// Measure the real machine: the data TLBs' reach (pointer chase) next to CPUID.
    Probe(cmd::probe::Args),
    /// A running process's working-set size over time (clear_refs + referenced bits).
    Wss(cmd::wss::Args),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(cmd::completions::Args),
    /// Print the manual page (roff), of vmsim or of one subcommand.
    Man(cmd::man::Args),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return exit::clap_error(e),
    };
    let result = match cli.command {
        Command::Run(a) => cmd::run::run(a),
        Command::Report(a) => cmd::report::run(a),
        Command::Serve(a) => cmd::serve::run(a),
        Command::Explain(a) => cmd::explain::run(a),
        Command::Presets(a) => cmd::presets::run(a),
        Command::Convert(a) => cmd::convert::run(a),
        Command::Mrc(a) => cmd::mrc::run(a),
        Command::Ostep(a) => cmd::ostep::run(a),
        Command::Thrash(a) => cmd::thrash::run(a),
        Command::Workload(a) => cmd::workload::run(a),
        Command::Policy(a) => cmd::policy::run(a),
        Command::Gen(a) => cmd::gen::run(a),
        Command::Ws(a) => cmd::ws::run(a),
        Command::Pagetable(a) => cmd::pagetable::run(a),
        Command::Malloc(a) => cmd::malloc::run(a),
        Command::Memcheck(a) => cmd::memcheck::run(a),
        Command::Segments(a) => cmd::segments::run(a),
        Command::Inspect(a) => cmd::inspect::run(a),
        Command::Record(a) => cmd::record::run(a),
        Command::Probe(a) => cmd::probe::run(a),
        Command::Wss(a) => cmd::wss::run(a),
        Command::Completions(a) => cmd::completions::run(a),
        Command::Man(a) => cmd::man::run(a),
    };
    exit::finish(result)
}
