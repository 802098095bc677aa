//! The memory API as a program sees it (OSTEP ch. 14): a process's `malloc` heap grown with
//! `brk` and `mmap` ([`process_heap`]), the text form of a program's malloc/free/load/store
//! trace ([`memtrace`]), and a checker in the manner of Valgrind's Memcheck that replays it
//! ([`memcheck`]): use after free, double and invalid frees, overruns, undefined reads, leaks.
//! The allocators underneath are `alloc/`'s.

pub mod memcheck;
pub mod memtrace;
pub mod process_heap;
