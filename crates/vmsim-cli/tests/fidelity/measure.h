/* What the fidelity patterns measure of the running kernel, the same way for each: faults from
 * getrusage, RssAnon/RssFile/VmPTE from /proc/self/status, AnonHugePages and FilePmdMapped from
 * /proc/self/smaps_rollup, thp_split_pmd from /proc/vmstat. A pattern takes a snapshot before
 * and after the accesses it is about and prints the differences as key=value lines. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define MIB (1024L * 1024L)
#define PAGE 4096L

static char buf[1 << 16];

/* The number after `key` in the file at `path`, -1 if absent. */
static long field(const char *path, const char *key) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return -1;
    buf[n] = 0;
    char *p = strstr(buf, key);
    return p ? strtol(p + strlen(key), 0, 10) : -1;
}

struct snap {
    long minflt, majflt, anon, file, pte, anon_huge, file_pmd, split_pmd;
};

static void take(struct snap *s) {
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    s->minflt = r.ru_minflt;
    s->majflt = r.ru_majflt;
    s->anon = field("/proc/self/status", "RssAnon:");
    s->file = field("/proc/self/status", "RssFile:");
    s->pte = field("/proc/self/status", "VmPTE:");
    s->anon_huge = field("/proc/self/smaps_rollup", "AnonHugePages:");
    s->file_pmd = field("/proc/self/smaps_rollup", "FilePmdMapped:");
    s->split_pmd = field("/proc/vmstat", "thp_split_pmd ");
}

/* Prints what changed from `a` to `b`, each key prefixed with `who` ("" or "child_"). */
static void report(const char *who, const struct snap *a, const struct snap *b) {
    printf("%sfaults=%ld\n%smajor=%ld\n", who, (b->minflt - a->minflt) + (b->majflt - a->majflt),
           who, b->majflt - a->majflt);
    printf("%srss_anon_kib=%ld\n%srss_file_kib=%ld\n%spte_kib=%ld\n", who, b->anon - a->anon,
           who, b->file - a->file, who, b->pte - a->pte);
    printf("%sanon_huge_kib=%ld\n%sfile_pmd_kib=%ld\n%sthp_split_pmd=%ld\n", who,
           b->anon_huge - a->anon_huge, who, b->file_pmd - a->file_pmd, who,
           b->split_pmd - a->split_pmd);
    fflush(stdout);
}

/* Reads one byte of every page of [p, p + len). */
static long read_pages(const char *p, long len) {
    long sum = 0;
    for (long i = 0; i < len; i += PAGE) sum += *(volatile const char *)(p + i);
    return sum;
}

/* Writes one byte of every page of [p, p + len). */
static void write_pages(char *p, long len) {
    for (long i = 0; i < len; i += PAGE) *(volatile char *)(p + i) = 1;
}

/* Anonymous memory of `len` bytes at a 2 MiB boundary. */
static char *anon_aligned(long len) {
    char *p = mmap(0, len + 2 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) { perror("mmap"); exit(1); }
    return (char *)(((unsigned long)p + 2 * MIB - 1) & ~(2 * MIB - 1));
}

/* A file `name` of `len` bytes written through write(): its pages are then in the page cache
 * (warm). With `cold`, they are written back and dropped from the cache first. */
static int make_file(const char *name, long len, int cold) {
    int fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) { perror(name); exit(1); }
    memset(buf, 7, sizeof buf);
    for (long i = 0; i < len; i += sizeof buf)
        if (write(fd, buf, sizeof buf) != sizeof buf) { perror("write"); exit(1); }
    if (cold) {
        fdatasync(fd);
        posix_fadvise(fd, 0, len, POSIX_FADV_DONTNEED);
    }
    return fd;
}

/* Runs `pattern` between two snapshots and reports the difference. The first snapshot is
 * taken twice so that the measuring itself (its buffers, its stack) faults before it counts. */
#define MEASURE(who, pattern)          \
    do {                               \
        struct snap a, b;              \
        take(&a);                      \
        take(&a);                      \
        pattern;                       \
        take(&b);                      \
        report(who, &a, &b);           \
    } while (0)
