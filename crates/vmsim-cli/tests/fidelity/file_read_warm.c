/* Read every page of a 64 MiB private file mapping whose pages are in the page cache. */
#include "measure.h"
int main(void) {
    long len = 64 * MIB;
    int fd = make_file("fidelity-warm.dat", len, 0);
    char *p = mmap(0, len, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) { perror("mmap"); return 1; }
    MEASURE("", read_pages(p, len));
    return 0;
}
