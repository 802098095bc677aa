/* Read every page of 64 MiB of fresh private anonymous memory, then write every page. */
#include "measure.h"
int main(void) {
    long len = 64 * MIB;
    char *p = anon_aligned(len);
    /* 4 KiB pages whatever the system's THP setting ("always" would map huge zero pages). */
    madvise(p, len, MADV_NOHUGEPAGE);
    MEASURE("", read_pages(p, len); write_pages(p, len));
    return 0;
}
