/* Read every page of 64 MiB of MADV_HUGEPAGE anonymous memory (the huge zero page). */
#include "measure.h"
int main(void) {
    long len = 64 * MIB;
    char *p = anon_aligned(len);
    if (madvise(p, len, MADV_HUGEPAGE)) { perror("madvise"); return 1; }
    MEASURE("", read_pages(p, len));
    return 0;
}
