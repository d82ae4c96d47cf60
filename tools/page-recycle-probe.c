/* What a new commit-log page costs the prefault, fresh or recycled: the evidence behind the store's
 * `cachedLogBytes` (CommitLog.dropCachedLog).
 * Writes TOTAL MiB through a MAP_SHARED mapping of a posix_fallocate'd file in windows of WINDOW MiB, as the store
 * does: MADV_POPULATE_WRITE the window in 256 KiB calls, then memcpy 1100-byte records into it. With RECYCLE=1,
 * the window before the previous one is then msync'd and dropped (MADV_DONTNEED + POSIX_FADV_DONTNEED), so the
 * next populate can take pages freed moments before. Prints thread CPU per 4 KiB page for each phase.
 * Build and run: cc -O2 -o /tmp/page-recycle-probe tools/page-recycle-probe.c
 *                /tmp/page-recycle-probe 0 256 16 /tmp/probe.dat; /tmp/page-recycle-probe 1 256 16 /tmp/probe.dat */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static double cpu(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s RECYCLE(0|1) TOTAL_MIB WINDOW_MIB FILE\n", argv[0]);
        return 2;
    }
    int recycle = atoi(argv[1]);
    size_t total = (size_t)atol(argv[2]) << 20, window = (size_t)atol(argv[3]) << 20;
    const char *path = argv[4];
    unlink(path);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || posix_fallocate(fd, 0, total) != 0) { perror(path); return 1; }
    char *map = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) { perror("mmap"); return 1; }
    char record[1100];
    memset(record, 7, sizeof record);
    double populate = 0, write = 0, drop = 0;
    size_t at = 0;
    for (size_t w = 0; w < total; w += window) {
        double a = cpu();
        for (size_t c = w; c < w + window; c += 256 << 10) madvise(map + c, 256 << 10, MADV_POPULATE_WRITE);
        double b = cpu();
        for (; at + sizeof record <= w + window; at += sizeof record) memcpy(map + at, record, sizeof record);
        double c = cpu();
        if (recycle && w >= window) {
            size_t old = w - window;
            msync(map + old, window, MS_SYNC);
            madvise(map + old, window, MADV_DONTNEED);
            posix_fadvise(fd, (off_t)old, (off_t)window, POSIX_FADV_DONTNEED);
        }
        double d = cpu();
        populate += b - a; write += c - b; drop += d - c;
    }
    double pages = (double)(total / 4096);
    printf("recycle=%d window=%zu MiB: populate %.0f, write %.0f, msync+drop %.0f ns per page (thread CPU)\n",
           recycle, window >> 20, populate * 1e9 / pages, write * 1e9 / pages, drop * 1e9 / pages);
    munmap(map, total);
    close(fd);
    unlink(path);
    return 0;
}
