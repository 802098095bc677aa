//! The system-call seam, as arch/x86/entry/syscall_64.c's table: the Linux model's calls as
//! one typed [`Syscall`], made on a whole machine by [`Machine::syscall`]. Callers outside
//! the trace (workloads, layouts, a viewer, bindings) go through here instead of holding the
//! kernel, physical memory and CPUs at once; the machine lends them to the kernel for one call
//! and forgets which CPU ran a process that exited.

use super::{Advice, LinuxKernel, MmapRequest, VmError};
use crate::kernel::layout::{Image, Layout};
use crate::kernel::vma::{AddressSpace, FileId, Prot};
use crate::kernel::{Pid, VaRange};
use crate::machine::Machine;

/// A system call of the Linux model, with its arguments checked by their types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syscall {
    /// `execve`: a fresh layout for `image`, randomised from `seed` when `aslr` is on.
    Exec {
        /// The program's sizes.
        image: Image,
        /// Address-space layout randomisation.
        aslr: bool,
        /// Seed of the randomisation.
        seed: u64,
    },
    /// `mmap`.
    Mmap(MmapRequest),
    /// `munmap`.
    Munmap(VaRange),
    /// `mprotect`.
    Mprotect(VaRange, Prot),
    /// `madvise`.
    Madvise(VaRange, Advice),
    /// `brk`: move the end of the heap to this address (rounded up to a page).
    Brk(u64),
    /// `fork`: a copy of the calling process as `child`.
    Fork {
        /// The new process.
        child: Pid,
    },
    /// `exit`.
    Exit,
}

/// What a system call returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyscallResult {
    /// Done, nothing to return (munmap, mprotect, madvise, fork, exit).
    Done,
    /// An address: where `mmap` mapped, the new break of `brk`.
    Addr(u64),
    /// The layout `execve` chose.
    Exec(Layout),
}

impl Machine<LinuxKernel> {
    /// Makes system call `call` as process `pid`.
    pub fn syscall(&mut self, pid: Pid, call: Syscall) -> Result<SyscallResult, VmError> {
        let (k, mem, cpus) = self.parts();
        let out = match call {
            Syscall::Exec { image, aslr, seed } => {
                SyscallResult::Exec(k.exec(mem, cpus, pid, image, aslr, seed)?)
            }
            Syscall::Mmap(req) => SyscallResult::Addr(k.mmap(mem, pid, req)?),
            Syscall::Munmap(range) => {
                k.munmap(mem, cpus, pid, range)?;
                SyscallResult::Done
            }
            Syscall::Mprotect(range, prot) => {
                k.mprotect(mem, cpus, pid, range, prot)?;
                SyscallResult::Done
            }
            Syscall::Madvise(range, advice) => {
                k.madvise(mem, cpus, pid, range, advice)?;
                SyscallResult::Done
            }
            Syscall::Brk(end) => SyscallResult::Addr(k.brk(mem, cpus, pid, end)?),
            Syscall::Fork { child } => {
                k.fork(mem, cpus, pid, child)?;
                SyscallResult::Done
            }
            Syscall::Exit => {
                k.exit(mem, cpus, pid)?;
                self.deschedule(pid);
                SyscallResult::Done
            }
        };
        Ok(out)
    }

    /// A new file for mappings to name (`open` of a file the model has not seen).
    pub fn new_file(&mut self) -> FileId {
        self.parts().0.new_file()
    }

    /// Puts pages `first..first + pages` of `file` in the page cache, as after the file was
    /// read or written (see [`LinuxKernel::cache_file_pages`]).
    pub fn cache_file_pages(&mut self, file: FileId, first: u64, pages: u64) {
        let (k, mem, _) = self.parts();
        k.cache_file_pages(mem, file, first, pages);
    }

    /// Makes every process created from now on start with the VMAs of `space` (see
    /// [`LinuxKernel::start_processes_with`]).
    pub fn start_processes_with(&mut self, space: AddressSpace) {
        self.parts().0.start_processes_with(space);
    }
}
