/* The first touch of each page of an 8 MiB private file mapping is a write (page cache warm). */
#include "measure.h"
int main(void) {
    long len = 8 * MIB;
    int fd = make_file("fidelity-write-first.dat", len, 0);
    char *p = mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) { perror("mmap"); return 1; }
    MEASURE("", write_pages(p, len));
    return 0;
}
