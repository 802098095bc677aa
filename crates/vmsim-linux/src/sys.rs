//! The crate's only `unsafe`: thin, checked wrappers over the system calls vmsim needs
//! (mmap(2), munmap(2), madvise(2), sched_setaffinity(2), geteuid(2)). Each wrapper states the
//! invariant that makes its call sound; everything above this file is safe code.
use std::io;

/// An anonymous private mapping that is unmapped when dropped.
#[derive(Debug)]
pub struct Mapping {
    ptr: *mut u8,
    len: usize,
}

/// The base page size.
pub const PAGE: usize = 4096;

impl Mapping {
    /// Maps `len` bytes (rounded up to pages) of anonymous read-write memory. With `at`, the
    /// mapping is placed exactly there or fails (MAP_FIXED_NOREPLACE: never replaces an
    /// existing mapping). `noreserve` skips swap accounting, for sparse reservations.
    pub fn anonymous(at: Option<u64>, len: usize, noreserve: bool) -> io::Result<Self> {
        let len = len.div_ceil(PAGE).max(1) * PAGE;
        let mut flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS;
        if at.is_some() {
            flags |= libc::MAP_FIXED_NOREPLACE;
        }
        if noreserve {
            flags |= libc::MAP_NORESERVE;
        }
        let hint = at.unwrap_or(0) as *mut libc::c_void;
        // SAFETY: an anonymous mapping with a null or MAP_FIXED_NOREPLACE hint cannot alias
        // memory Rust owns (NOREPLACE fails with EEXIST instead of replacing); the result is
        // checked against MAP_FAILED before use.
        let p = unsafe { libc::mmap(hint, len, libc::PROT_READ | libc::PROT_WRITE, flags, -1, 0) };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let m = Mapping { ptr: p.cast(), len };
        if let Some(a) = at {
            if m.addr() != a {
                // Kernels before 4.17 ignore NOREPLACE and treat the address as a hint.
                return Err(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    format!("wanted {a:#x}, got {:#x}", m.addr()),
                ));
            }
        }
        Ok(m)
    }

    /// Maps the first `len` bytes of `file` private (copy-on-write) and read-write: reads
    /// come from the page cache, the first write to a page copies it.
    pub fn private_file(file: &std::fs::File, len: usize) -> io::Result<Self> {
        use std::os::fd::AsRawFd;
        let len = len.div_ceil(PAGE).max(1) * PAGE;
        // SAFETY: a new private mapping at an address the kernel picks aliases no Rust-owned
        // memory; the fd is valid for the call. Its bytes are only read and written through
        // volatile accesses of this value, never through references, so a concurrent change
        // of the file by another process cannot break an aliasing guarantee.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE,
                file.as_raw_fd(),
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Mapping { ptr: p.cast(), len })
    }

    /// The first address.
    pub fn addr(&self) -> u64 {
        self.ptr as u64
    }

    /// Bytes mapped.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the mapping is empty (never: at least one page is mapped).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Writes `value` at byte `offset` (a volatile store, so the page is really touched).
    /// Panics if `offset` is outside the mapping: callers pass offsets they computed from
    /// [`Mapping::len`].
    pub fn write(&self, offset: usize, value: u8) {
        assert!(
            offset < self.len,
            "offset {offset} beyond {} bytes",
            self.len
        );
        // SAFETY: in bounds (checked above) of a live read-write mapping this value owns.
        unsafe { self.ptr.add(offset).write_volatile(value) }
    }

    /// Reads the byte at `offset` (volatile, so the page is really touched). Panics if out of
    /// bounds, like [`Mapping::write`].
    pub fn read(&self, offset: usize) -> u8 {
        assert!(
            offset < self.len,
            "offset {offset} beyond {} bytes",
            self.len
        );
        // SAFETY: in bounds of a live readable mapping this value owns.
        unsafe { self.ptr.add(offset).read_volatile() }
    }

    /// Stores `value` as a native-endian `u64` at `offset` (8-byte aligned).
    pub fn write_u64(&self, offset: usize, value: u64) {
        assert!(
            offset.is_multiple_of(8) && offset + 8 <= self.len,
            "bad u64 offset {offset}"
        );
        // SAFETY: aligned and in bounds of a live read-write mapping this value owns.
        unsafe { self.ptr.add(offset).cast::<u64>().write_volatile(value) }
    }

    /// `madvise(MADV_HUGEPAGE)`: ask for transparent huge pages over the whole mapping.
    pub fn advise_hugepage(&self) -> io::Result<()> {
        self.advise(Advice::HugePage)
    }

    /// `madvise` over the whole mapping.
    pub fn advise(&self, advice: Advice) -> io::Result<()> {
        let a = match advice {
            Advice::HugePage => libc::MADV_HUGEPAGE,
            Advice::NoHugePage => libc::MADV_NOHUGEPAGE,
        };
        // SAFETY: the range is exactly this live mapping; these advices change no contents.
        let r = unsafe { libc::madvise(self.ptr.cast(), self.len, a) };
        if r != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

/// The `madvise` hints vmsim gives (none of them discards contents).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Advice {
    /// MADV_HUGEPAGE: back with transparent huge pages where possible.
    HugePage,
    /// MADV_NOHUGEPAGE: 4 KiB pages only.
    NoHugePage,
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the range this value mapped; no reference into it outlives
        // `self` (accessors copy bytes out).
        unsafe {
            libc::munmap(self.ptr.cast(), self.len);
        }
    }
}

/// Pins the calling thread to `cpu`.
pub fn pin_to_cpu(cpu: usize) -> io::Result<()> {
    // SAFETY: cpu_set_t is plain data; CPU_ZERO/CPU_SET write inside it; the call reads it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_ZERO(&mut set);
        libc::CPU_SET(cpu, &mut set);
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// The CPU the calling thread runs on now.
pub fn current_cpu() -> Option<usize> {
    // SAFETY: sched_getcpu takes no arguments and only returns a number or -1.
    let c = unsafe { libc::sched_getcpu() };
    usize::try_from(c).ok()
}

/// Sends `SIGSTOP` (`stop`) or `SIGCONT` to process `pid`, so that an inspection reads a
/// process that is not changing.
pub fn signal_stop(pid: u32, stop: bool) -> io::Result<()> {
    let pid = libc::pid_t::try_from(pid)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "pid out of range"))?;
    let sig = if stop { libc::SIGSTOP } else { libc::SIGCONT };
    // SAFETY: kill(2) takes plain integers and touches no memory of ours.
    if unsafe { libc::kill(pid, sig) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Clears close-on-exec on `fd`, so that a child started next inherits it (the write end of
/// the pipe valgrind logs into).
pub fn inheritable(fd: &std::os::fd::OwnedFd) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: F_SETFD on a descriptor this process owns (borrowed for the call) changes only
    // its close-on-exec flag.
    if unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, 0) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Executes CPUID with `leaf` and `subleaf`: `[eax, ebx, ecx, edx]`.
#[cfg(target_arch = "x86_64")]
pub fn cpuid(leaf: u32, subleaf: u32) -> [u32; 4] {
    // SAFETY: CPUID exists on every x86-64 processor and only writes the four registers.
    #[allow(unused_unsafe)]
    let r = unsafe { std::arch::x86_64::__cpuid_count(leaf, subleaf) };
    [r.eax, r.ebx, r.ecx, r.edx]
}

/// A chase step: reads the `u64` stored at byte `offset` of `m` as the next offset. Panics
/// when the stored value is not an aligned offset inside the mapping (it was not written by
/// the probe), so the chase stays in bounds.
#[inline(always)]
pub fn chase_step(m: &Mapping, offset: usize) -> usize {
    assert!(
        offset.is_multiple_of(8) && offset + 8 <= m.len,
        "chase left the mapping at {offset}"
    );
    // SAFETY: aligned and in bounds (checked above) of a live mapping this value owns.
    unsafe { m.ptr.add(offset).cast::<u64>().read_volatile() as usize }
}

/// Whether the process runs as root (effective uid 0), which pagemap frame numbers and
/// `/proc/kpageflags` require.
pub fn is_root() -> bool {
    // SAFETY: geteuid cannot fail and touches no memory.
    unsafe { libc::geteuid() == 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapping_reads_back_and_refuses_to_replace() {
        let m = Mapping::anonymous(None, 3 * PAGE + 1, false).unwrap();
        assert_eq!(m.len(), 4 * PAGE);
        assert_eq!(m.read(100), 0, "anonymous memory is zero-filled");
        m.write(4 * PAGE - 1, 7);
        assert_eq!(m.read(4 * PAGE - 1), 7);
        m.write_u64(8, 0x1122_3344_5566_7788);
        assert_eq!(m.read(8), 0x88);
        // The same range again with NOREPLACE must fail with EEXIST, not clobber it.
        let e = Mapping::anonymous(Some(m.addr()), PAGE, false).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EEXIST));
        assert_eq!(m.read(4 * PAGE - 1), 7);
    }

    #[test]
    #[should_panic(expected = "beyond")]
    fn out_of_bounds_write_panics_not_corrupts() {
        let m = Mapping::anonymous(None, PAGE, false).unwrap();
        m.write(PAGE, 1);
    }

    #[test]
    fn pinning_moves_the_thread() {
        pin_to_cpu(0).unwrap();
        assert_eq!(current_cpu(), Some(0));
    }
}
