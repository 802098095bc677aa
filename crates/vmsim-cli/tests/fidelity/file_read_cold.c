/* Read every page of a 64 MiB private file mapping whose pages were dropped from the cache. */
#include "measure.h"
int main(void) {
    long len = 64 * MIB;
    int fd = make_file("fidelity-cold.dat", len, 1);
    char *p = mmap(0, len, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) { perror("mmap"); return 1; }
    MEASURE("", read_pages(p, len));
    return 0;
}
