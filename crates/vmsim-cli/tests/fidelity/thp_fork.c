/* 64 MiB of MADV_HUGEPAGE anonymous memory written, then 1 MiB unmapped, 4 KiB mprotected
 * read-only, a fork, and the child writing 4 MiB; the parent's snapshot spans it all. */
#include "measure.h"
int main(void) {
    long len = 64 * MIB;
    char *p = anon_aligned(len);
    if (madvise(p, len, MADV_HUGEPAGE)) { perror("madvise"); return 1; }
    MEASURE("", {
        write_pages(p, len);
        munmap(p + 8 * MIB, MIB);
        mprotect(p + 16 * MIB, PAGE, PROT_READ);
        pid_t c = fork();
        if (c == 0) {
            MEASURE("child_", write_pages(p + 32 * MIB, 4 * MIB));
            _exit(0);
        }
        waitpid(c, 0, 0);
    });
    return 0;
}
