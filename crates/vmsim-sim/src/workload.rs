//! Workloads written by hand: a TOML list of steps run in order on one machine with the
//! Linux-like kernel (exec, mmap, munmap, mprotect, madvise, brk, synthetic touches, fork, exit)
//! and the replay of traces by several processes on several CPUs, interleaved round-robin with a
//! scheduling quantum. `vmsim workload` runs them; the format is in the README and `examples/`.
use serde::Deserialize;
use std::path::{Path, PathBuf};
use thiserror::Error;
use vmsim_core::kernel::layout::Image;
use vmsim_core::kernel::linux::VmError;
use vmsim_core::kernel::vma::Prot;
use vmsim_core::kernel::{self, LinuxKernel, MmapRequest, RangeError, Syscall, VaRange};
use vmsim_core::machine::{Machine, MachineError};
use vmsim_core::{AccessKind, VirtAddr};
use vmsim_trace::{AddressCheck, Record, TraceError, TraceReader};

/// A workload that cannot be read or cannot be run.
#[derive(Debug, Error)]
pub enum WorkloadError {
    /// The TOML is not a workload.
    #[error("line {line}: {message}")]
    Parse {
        /// Line of the text (from 1).
        line: usize,
        /// What is wrong there, on one line.
        message: String,
    },
    /// A step failed.
    #[error("step {step}")]
    Step {
        /// Its number (from 1).
        step: usize,
        /// Why.
        #[source]
        source: StepError,
    },
}

/// Why a step failed.
#[derive(Debug, Error)]
pub enum StepError {
    /// The kernel refused the system call.
    #[error(transparent)]
    Vm(#[from] VmError),
    /// The machine could not go on.
    #[error(transparent)]
    Machine(#[from] MachineError),
    /// A replayed trace could not be read.
    #[error(transparent)]
    Trace(#[from] TraceError),
    /// A system call's range is unaligned or runs past the last address.
    #[error(transparent)]
    Range(#[from] RangeError),
    /// `brk` before `exec`: a process has no heap until a program is loaded.
    #[error("brk needs an exec'd process {0}")]
    NotExeced(u32),
    /// A range whose end lies past the last address.
    #[error("{what} range {start:#x}+{len:#x} runs past the end of the address space")]
    Overflow {
        /// The step's kind.
        what: &'static str,
        /// First byte.
        start: u64,
        /// Length.
        len: u64,
    },
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
    type Error = vmsim_core::kernel::vma::ProtError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Prot::from_letters(&s).map(ProtArg)
    }
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Advice {
    Dontneed,
    Hugepage,
}

/// Whether a file's pages start in the page cache.
#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum PageCacheState {
    /// Read from disk on first use (the default).
    Cold,
    /// Cached, as just after the file was read or written.
    Warm,
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
        /// `warm`: the mapped pages of the file are in the page cache before the mapping is
        /// used.
        page_cache: Option<PageCacheState>,
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

/// A workload: its settings and its steps, as read from TOML.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workload {
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

impl Workload {
    /// Reads a workload from its TOML text.
    pub fn parse(text: &str) -> Result<Workload, WorkloadError> {
        toml::from_str(text).map_err(|e| WorkloadError::Parse {
            line: e.span().map_or(1, |s| {
                text[..s.start.min(text.len())].matches('\n').count() + 1
            }),
            message: e.message().trim().replace('\n', " "),
        })
    }

    /// Its name, if it gives one.
    pub fn name(&self) -> Option<&str> {
        (!self.name.is_empty()).then_some(self.name.as_str())
    }

    /// Whether faults outside every VMA are anonymous memory (the kernel must be configured so).
    pub fn implicit_anon(&self) -> bool {
        self.implicit_anon
    }

    /// Runs every step in order on `m`; relative trace paths are taken from `base`.
    pub fn run(&self, m: &mut Machine<LinuxKernel>, base: &Path) -> Result<(), WorkloadError> {
        let mut files = Files::default();
        for (i, step) in self.steps.iter().enumerate() {
            self.run_step(m, step, base, &mut files)
                .map_err(|source| WorkloadError::Step {
                    step: i + 1,
                    source,
                })?;
        }
        Ok(())
    }

    fn run_step(
        &self,
        m: &mut Machine<LinuxKernel>,
        step: &Step,
        base: &Path,
        files: &mut Files,
    ) -> Result<(), StepError> {
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
                let exec = Syscall::Exec {
                    image,
                    aslr: self.aslr,
                    seed: self.seed ^ *pid as u64,
                };
                m.syscall(*pid, exec)?;
            }
            Step::Mmap {
                pid,
                addr,
                len,
                prot,
                shared,
                file,
                offset,
                page_cache,
            } => {
                let f = file
                    .as_ref()
                    .map(|name| (files.id(name, || m.new_file()), *offset));
                if let (Some((id, first)), Some(PageCacheState::Warm)) = (f, page_cache) {
                    m.cache_file_pages(id, first, len.0.div_ceil(4096));
                }
                let req = MmapRequest {
                    addr: addr.map(|a| a.0),
                    len: len.0,
                    prot: prot.0,
                    shared: *shared,
                    file: f,
                };
                m.syscall(*pid, Syscall::Mmap(req))?;
            }
            Step::Munmap { pid, addr, len } => {
                m.syscall(*pid, Syscall::Munmap(VaRange::pages(addr.0, len.0)?))?;
            }
            Step::Mprotect {
                pid,
                addr,
                len,
                prot,
            } => {
                let range = VaRange::pages(addr.0, len.0)?;
                m.syscall(*pid, Syscall::Mprotect(range, prot.0))?;
            }
            Step::Madvise {
                pid,
                addr,
                len,
                advice,
            } => {
                let range = VaRange::pages(addr.0, len.0)?;
                let advice = match advice {
                    Advice::Dontneed => kernel::Advice::DontNeed,
                    Advice::Hugepage => kernel::Advice::HugePage,
                };
                m.syscall(*pid, Syscall::Madvise(range, advice))?;
            }
            Step::Brk { pid, size } => {
                let start = m
                    .kernel()
                    .layout(*pid)
                    .ok_or(StepError::NotExeced(*pid))?
                    .brk;
                let end = start.checked_add(size.0).ok_or(StepError::Overflow {
                    what: "brk",
                    start,
                    len: size.0,
                })?;
                m.syscall(*pid, Syscall::Brk(end))?;
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
                let (start, len) = (start.0, len.0);
                let stride = stride.map_or(4096, |s| s.0).max(1);
                let overflow = StepError::Overflow {
                    what: "touch",
                    start,
                    len,
                };
                let end = start.checked_add(len).ok_or(overflow)?;
                for _ in 0..*repeat {
                    // Every touched address lies below `end`, so the next one cannot wrap.
                    let mut a = start;
                    while a < end {
                        m.replay_access(*cpu, *pid, VirtAddr::new_unchecked(a), kind, 8, &mut ())?;
                        a = match a.checked_add(stride) {
                            Some(next) => next,
                            None => break,
                        };
                    }
                }
            }
            Step::Fork { parent, child } => {
                m.syscall(*parent, Syscall::Fork { child: *child })?;
            }
            Step::Exit { pid } => {
                m.syscall(*pid, Syscall::Exit)?;
            }
            Step::Replay { traces } => replay(m, self.quantum.max(1), traces, base)?,
        }
        Ok(())
    }
}

/// The files a workload's mappings name: mappings of the same name share one page-cache file.
#[derive(Default)]
struct Files(Vec<(String, u32)>);

impl Files {
    /// The kernel's file for `name`, made by `new_file` the first time it is named.
    fn id(&mut self, name: &str, new_file: impl FnOnce() -> u32) -> u32 {
        match self.0.iter().find(|(n, _)| n == name) {
            Some(&(_, id)) => id,
            None => {
                let id = new_file();
                self.0.push((name.to_string(), id));
                id
            }
        }
    }
}

/// Replays several traces, each as its own process on its own CPU, a quantum at a time.
fn replay(
    m: &mut Machine<LinuxKernel>,
    quantum: u64,
    traces: &[TraceRef],
    base: &Path,
) -> Result<(), StepError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use vmsim_core::config::MachineConfig;
    use vmsim_core::kernel::LinuxConfig;

    fn machine() -> Machine<LinuxKernel> {
        let cfg = MachineConfig::preset("zen4").unwrap();
        Machine::linux(&cfg, LinuxConfig::default()).unwrap()
    }

    fn run(text: &str) -> Result<Machine<LinuxKernel>, WorkloadError> {
        let mut m = machine();
        Workload::parse(text)?.run(&mut m, Path::new(""))?;
        Ok(m)
    }

    fn fails(text: &str) -> WorkloadError {
        match run(text) {
            Ok(_) => panic!("{text} ran"),
            Err(e) => e,
        }
    }

    #[test]
    fn a_bad_field_is_reported_at_its_line() {
        let err = Workload::parse("name = \"x\"\n\n[[step]]\nop = \"exec\"\npid = \"one\"\n");
        match err {
            Err(WorkloadError::Parse { line, message }) => {
                // The step's table: a tagged step is read whole, so toml knows no finer place.
                assert_eq!(line, 3, "{message}");
                assert!(message.contains("\"one\""), "{message}");
                assert!(!message.contains('\n'));
            }
            _ => panic!("a string pid must be refused"),
        }
    }

    #[test]
    fn steps_run_in_order_and_a_failing_step_is_named() {
        let ok =
            "[[step]]\nop = \"exec\"\npid = 1\n[[step]]\nop = \"brk\"\npid = 1\nsize = \"64K\"\n\
                  [[step]]\nop = \"fork\"\nparent = 1\nchild = 2\n";
        let m = run(ok).unwrap();
        assert_eq!(vmsim_core::kernel::Kernel::processes(m.kernel()), 2);
        let err = fails("[[step]]\nop = \"brk\"\npid = 1\nsize = 1\n");
        assert!(matches!(
            err,
            WorkloadError::Step {
                step: 1,
                source: StepError::NotExeced(1)
            }
        ));
    }

    #[test]
    fn a_touch_past_the_last_address_is_refused_not_wrapped() {
        let text = "implicit_anon = true\n[[step]]\nop = \"touch\"\npid = 1\nstart = \"0x1000\"\nlen = \"0xffffffffffffffff\"\n";
        let err = fails(text);
        assert!(
            matches!(
                err,
                WorkloadError::Step {
                    step: 1,
                    source: StepError::Overflow { what: "touch", .. }
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn a_touch_that_ends_at_the_top_of_memory_stops_there() {
        // The last stride would step past 2^64: the touch ends instead of wrapping to 0.
        let text =
            "[[step]]\nop = \"touch\"\npid = 1\nstart = \"0xfffffffffffff000\"\nlen = \"0xfff\"\n";
        let m = run(text).unwrap();
        assert_eq!(m.stats().records, 1);
    }

    #[test]
    fn a_brk_past_the_last_address_is_refused() {
        let text = "[[step]]\nop = \"exec\"\npid = 1\n[[step]]\nop = \"brk\"\npid = 1\nsize = \"0xffffffffffffffff\"\n";
        let err = fails(text);
        assert!(matches!(
            err,
            WorkloadError::Step {
                step: 2,
                source: StepError::Overflow { what: "brk", .. }
            }
        ));
    }

    /// Lengths that round up past 2^64 are refused (they wrapped to an empty range and the
    /// call did nothing), and so is an unaligned start (it split VMAs off page boundaries).
    #[test]
    fn system_call_ranges_past_the_last_address_or_unaligned_are_refused() {
        let head = "[[step]]\nop = \"exec\"\npid = 1\n[[step]]\npid = 1\n";
        for (call, what) in [
            ("op = \"madvise\"\nadvice = \"dontneed\"\naddr = \"0x7e0000000000\"\nlen = \"0xffffffffffffffff\"", "overflow"),
            ("op = \"madvise\"\nadvice = \"hugepage\"\naddr = \"0x7e0000000000\"\nlen = \"0xffffffffffffffff\"", "overflow"),
            ("op = \"munmap\"\naddr = \"0x7e0000000000\"\nlen = \"0xffffffffffffffff\"", "overflow"),
            ("op = \"mprotect\"\nprot = \"r--\"\naddr = \"0x7e0000000000\"\nlen = \"0xffffffffffffffff\"", "overflow"),
            ("op = \"mmap\"\nprot = \"rw-\"\nlen = \"0xffffffffffffffff\"", "overflow"),
            ("op = \"munmap\"\naddr = \"0x7e0000000010\"\nlen = \"4K\"", "unaligned"),
        ] {
            let err = fails(&format!("{head}{call}\n"));
            let WorkloadError::Step { step: 2, source } = &err else {
                panic!("{call}: {err:?}");
            };
            let ok = matches!(
                (source, what),
                (StepError::Range(RangeError::Overflow { .. }), "overflow")
                    | (
                        StepError::Vm(VmError::Range(RangeError::Overflow { .. })),
                        "overflow"
                    )
                    | (StepError::Range(RangeError::Unaligned { .. }), "unaligned")
            );
            assert!(ok, "{call}: {source:?}");
        }
    }

    #[test]
    fn a_fork_to_a_pid_in_use_says_so() {
        let text =
            "[[step]]\nop = \"exec\"\npid = 1\n[[step]]\nop = \"fork\"\nparent = 1\nchild = 1\n";
        let err = fails(text);
        assert!(
            matches!(
                err,
                WorkloadError::Step {
                    step: 2,
                    source: StepError::Vm(VmError::PidInUse(1))
                }
            ),
            "{err:?}"
        );
    }
}
