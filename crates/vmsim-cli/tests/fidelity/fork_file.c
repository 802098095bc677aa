/* A parent reads its 8 MiB private file mapping (page cache warm) and forks; the child reads
 * the same mapping. */
#include "measure.h"
int main(void) {
    long len = 8 * MIB;
    int fd = make_file("fidelity-fork.dat", len, 0);
    char *p = mmap(0, len, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) { perror("mmap"); return 1; }
    read_pages(p, len);
    pid_t c = fork();
    if (c == 0) {
        MEASURE("child_", read_pages(p, len));
        _exit(0);
    }
    waitpid(c, 0, 0);
    return 0;
}
