//! `vmsim workload FILE`: a scenario written by hand, as a TOML list of steps run in order on one
//! machine with the Linux-like kernel: exec, mmap, munmap, mprotect, brk, synthetic touches,
//! fork, exit, and the replay of traces by several processes on several CPUs, interleaved
//! round-robin with a scheduling quantum. Prints the same report as `vmsim run`.
use crate::cmd::run::KernelArgs;
use crate::machine_args::MachineArgs;
use anyhow::{anyhow, Context, Result};
use serde::Deserialize;
use std::io::Write;
use std::path::{Path, PathBuf};
use vmsim_core::kernel::layout::Image;
use vmsim_core::kernel::vma::Prot;
use vmsim_core::kernel::LinuxKernel;
use vmsim_core::machine::Machine;
use vmsim_core::{AccessKind, VirtAddr};
use vmsim_sim::RunReport;
use vmsim_trace::{AddressCheck, Record, TraceReader};

/// Arguments of `vmsim workload`.
#[derive(clap::Args)]
#[command(after_help = "Example: vmsim workload examples/fork-cow.toml --json\n\
    See examples/ for the format: steps with op = exec, mmap, munmap, mprotect, brk, touch,\n\
    fork, exit or replay.")]
pub struct Args {
    /// The workload description (TOML).
    pub file: PathBuf,
    #[command(flatten)]
    pub machine: MachineArgs,
    #[command(flatten)]
    pub kernel: KernelArgs,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// A number written as an integer, `0x` hex, or a size with a suffix (`4M`).
#[derive(Deserialize, Clone, Copy)]
#[serde(try_from = "NumRepr")]
struct Num(u64);

#[derive(Deserialize)]
#[serde(untagged)]
enum NumRepr {
    Int(u64),
    Text(String),
}

impl TryFrom<NumRepr> for Num {
    type Error = String;
    fn try_from(r: NumRepr) -> Result<Self, String> {
        match r {
            NumRepr::Int(n) => Ok(Num(n)),
            NumRepr::Text(s) => match s.strip_prefix("0x") {
                Some(h) => u64::from_str_radix(&h.replace('_', ""), 16)
                    .map(Num)
                    .map_err(|_| format!("`{s}` is not a hex number")),
                None => vmsim_core::units::parse_bytes(&s).map(Num),
            },
        }
    }
}

#[derive(Deserialize)]
#[serde(try_from = "String")]
struct ProtArg(Prot);

impl TryFrom<String> for ProtArg {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Prot::from_letters(&s).map(ProtArg)
    }
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Advice {
    Dontneed,
    Hugepage,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Read,
    Write,
    Fetch,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TraceRef {
    pid: u32,
    path: PathBuf,
    #[serde(default)]
    cpu: u16,
    limit: Option<u64>,
}

#[derive(Deserialize)]
#[serde(tag = "op", rename_all = "lowercase", deny_unknown_fields)]
enum Step {
    Exec {
        pid: u32,
        text: Option<Num>,
        data: Option<Num>,
        bss: Option<Num>,
    },
    Mmap {
        pid: u32,
        addr: Option<Num>,
        len: Num,
        prot: ProtArg,
        #[serde(default)]
        shared: bool,
        /// A file name: mappings of the same name share the page cache.
        file: Option<String>,
        #[serde(default)]
        offset: u64,
    },
    Munmap {
        pid: u32,
        addr: Num,
        len: Num,
    },
    Mprotect {
        pid: u32,
        addr: Num,
        len: Num,
        prot: ProtArg,
    },
    Madvise {
        pid: u32,
        addr: Num,
        len: Num,
        advice: Advice,
    },
    Brk {
        pid: u32,
        /// New heap size in bytes above the initial break.
        size: Num,
    },
    Touch {
        pid: u32,
        start: Num,
        len: Num,
        #[serde(default = "write")]
        kind: Kind,
        stride: Option<Num>,
        #[serde(default = "one")]
        repeat: u64,
        #[serde(default)]
        cpu: u16,
    },
    Fork {
        parent: u32,
        child: u32,
    },
    Exit {
        pid: u32,
    },
    Replay {
        traces: Vec<TraceRef>,
    },
}

fn write() -> Kind {
    Kind::Write
}
fn one() -> u64 {
    1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Workload {
    #[serde(default)]
    name: String,
    /// Accesses a process runs before the next trace's turn in a replay step.
    #[serde(default = "quantum")]
    quantum: u64,
    #[serde(default = "yes")]
    aslr: bool,
    #[serde(default)]
    seed: u64,
    /// Faults outside every VMA are private anonymous memory (for replaying traces that come
    /// without a memory map); otherwise they are SIGSEGV.
    #[serde(default)]
    implicit_anon: bool,
    #[serde(rename = "step")]
    steps: Vec<Step>,
}

fn quantum() -> u64 {
    10_000
}
fn yes() -> bool {
    true
}

fn parse(path: &Path) -> Result<Workload> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    toml::from_str(&text).map_err(|e| {
        let line = e.span().map_or(1, |s| {
            text[..s.start.min(text.len())].matches('\n').count() + 1
        });
        anyhow!(
            "{}:{line}: {}",
            path.display(),
            e.message().trim().replace('\n', " ")
        )
    })
}

/// Runs `vmsim workload`.
pub fn run(args: Args) -> Result<()> {
    let w = parse(&args.file)?;
    let mut cfg = args.machine.load()?;
    args.kernel.apply_ram(&mut cfg)?;
    if !LinuxKernel::supports(&cfg) {
        return Err(crate::exit::usage(
            "workloads run on the linux kernel model, which maps x86-64 4K pages only",
        ));
    }
    let mut m = Machine::linux(&cfg, args.kernel.linux(w.implicit_anon)?)?;
    let base = args
        .file
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut files: Vec<String> = Vec::new();
    let mut file_ids = Vec::new();
    for (i, step) in w.steps.iter().enumerate() {
        run_step(&mut m, &w, step, &base, &mut files, &mut file_ids)
            .with_context(|| format!("{}: step {}", args.file.display(), i + 1))?;
    }
    let name = if w.name.is_empty() {
        args.file.display().to_string()
    } else {
        w.name.clone()
    };
    let report = RunReport::new(&m, &cfg, &name);
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &serde_json::to_value(&report)?)?;
        writeln!(out)?;
    } else {
        out.write_all(report.to_string().as_bytes())?;
    }
    Ok(())
}

fn run_step(
    m: &mut Machine<LinuxKernel>,
    w: &Workload,
    step: &Step,
    base: &Path,
    files: &mut Vec<String>,
    ids: &mut Vec<u32>,
) -> Result<()> {
    match step {
        Step::Exec {
            pid,
            text,
            data,
            bss,
        } => {
            let d = Image::default();
            let image = Image {
                text: text.map_or(d.text, |n| n.0),
                data: data.map_or(d.data, |n| n.0),
                bss: bss.map_or(d.bss, |n| n.0),
            };
            let (kern, mem, cpus) = m.parts();
            kern.exec(mem, cpus, *pid, image, w.aslr, w.seed ^ *pid as u64)?;
        }
        Step::Mmap {
            pid,
            addr,
            len,
            prot,
            shared,
            file,
            offset,
        } => {
            let (kern, mem, _) = m.parts();
            let f = file
                .as_ref()
                .map(|name| match files.iter().position(|f| f == name) {
                    Some(i) => (ids[i], *offset),
                    None => {
                        let id = kern.new_file();
                        files.push(name.clone());
                        ids.push(id);
                        (id, *offset)
                    }
                });
            kern.mmap(mem, *pid, addr.map(|a| a.0), len.0, prot.0, *shared, f)?;
        }
        Step::Munmap { pid, addr, len } => {
            let (kern, mem, cpus) = m.parts();
            kern.munmap(mem, cpus, *pid, addr.0, len.0)?;
        }
        Step::Mprotect {
            pid,
            addr,
            len,
            prot,
        } => {
            let (kern, mem, cpus) = m.parts();
            kern.mprotect(mem, cpus, *pid, addr.0, len.0, prot.0)?;
        }
        Step::Madvise {
            pid,
            addr,
            len,
            advice,
        } => {
            let (kern, mem, cpus) = m.parts();
            match advice {
                Advice::Dontneed => kern.madvise_dontneed(mem, cpus, *pid, addr.0, len.0)?,
                Advice::Hugepage => kern.madvise_hugepage(*pid, addr.0, len.0)?,
            }
        }
        Step::Brk { pid, size } => {
            let (kern, mem, cpus) = m.parts();
            let start = kern
                .layout(*pid)
                .ok_or_else(|| anyhow!("brk needs an exec'd process {pid}"))?
                .brk;
            kern.brk(mem, cpus, *pid, start + size.0)?;
        }
        Step::Touch {
            pid,
            start,
            len,
            kind,
            stride,
            repeat,
            cpu,
        } => {
            let kind = match kind {
                Kind::Read => AccessKind::Read,
                Kind::Write => AccessKind::Write,
                Kind::Fetch => AccessKind::Fetch,
            };
            let stride = stride.map_or(4096, |s| s.0).max(1);
            for _ in 0..*repeat {
                let mut a = start.0;
                while a < start.0 + len.0 {
                    m.replay_access(*cpu, *pid, VirtAddr::new_unchecked(a), kind, 8, &mut ())?;
                    a += stride;
                }
            }
        }
        Step::Fork { parent, child } => {
            let (kern, mem, cpus) = m.parts();
            kern.fork(mem, cpus, *parent, *child)?;
        }
        Step::Exit { pid } => {
            let (kern, mem, cpus) = m.parts();
            kern.exit(mem, cpus, *pid)?;
            m.deschedule(*pid);
        }
        Step::Replay { traces } => replay(m, w.quantum.max(1), traces, base)?,
    }
    Ok(())
}

/// Replays several traces, each as its own process on its own CPU, a quantum at a time.
fn replay(
    m: &mut Machine<LinuxKernel>,
    quantum: u64,
    traces: &[TraceRef],
    base: &Path,
) -> Result<()> {
    struct Live {
        pid: u32,
        cpu: u16,
        reader: TraceReader,
        left: u64,
        buf: Vec<Record>,
        at: usize,
    }
    let mut live = Vec::new();
    for t in traces {
        let p = if t.path.is_absolute() {
            t.path.clone()
        } else {
            base.join(&t.path)
        };
        live.push(Live {
            pid: t.pid,
            cpu: t.cpu,
            reader: TraceReader::open(&p, None)?.with_address_check(AddressCheck::Canonical(48)),
            left: t.limit.unwrap_or(u64::MAX),
            buf: Vec::with_capacity(4096),
            at: 0,
        });
    }
    while !live.is_empty() {
        let mut i = 0;
        while i < live.len() {
            let l = &mut live[i];
            let mut ran = 0;
            let mut done = false;
            while ran < quantum {
                if l.left == 0 {
                    done = true;
                    break;
                }
                if l.at == l.buf.len() {
                    l.at = 0;
                    if l.reader.read_batch(&mut l.buf)? == 0 {
                        done = true;
                        break;
                    }
                }
                let r = l.buf[l.at];
                l.at += 1;
                l.left -= 1;
                ran += 1;
                // The trace's own pid and CPU fields are replaced by the workload's.
                m.replay_access(l.cpu, l.pid, r.addr, r.kind, r.size, &mut ())?;
            }
            if done {
                live.remove(i);
            } else {
                i += 1;
            }
        }
    }
    Ok(())
}
