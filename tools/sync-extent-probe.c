/* What one group commit costs the file system, by how the log's blocks were made: the evidence behind
 * `StoreConfig.warmMappedFile` (broker.conf warmMapedFileEnable, MappedFile.writeAhead).
 * Appends CHUNK bytes and makes them durable, over and over for SECONDS, then prints ms per round and MB/s. Modes:
 *   append          write(2) at the end of a growing file + fdatasync (the storage bench's baseline)
 *   mmap-falloc     memcpy into a MAP_SHARED mapping of a posix_fallocate'd file + msync(MS_SYNC): the store
 *   mmap-sparse     the same over a file sized with ftruncate only (blocks allocated at write-back)
 *   mmap-warm       mmap-falloc after the first quarter was faulted in, written back and synced (what writeAhead does
 *                   ahead of the writer; here all before the timed loop)
 *   mmap-zeroed     the same mapping over blocks written with zeros beforehand (pwrite + fdatasync)
 *   pwrite-falloc / pwrite-zeroed   pwrite(2) + fdatasync into the two kinds of blocks
 * Unwritten extents (posix_fallocate) are converted on their first write-back, a journaled change each round waits
 * for; written blocks need none.
 * Build and run: cc -O2 -o /tmp/sync-extent-probe tools/sync-extent-probe.c
 *                for m in append mmap-falloc mmap-warm mmap-zeroed pwrite-zeroed; do /tmp/sync-extent-probe $m 48000 3 /tmp/probe.dat; done */
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

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s MODE CHUNK_BYTES SECONDS FILE\n", argv[0]);
        return 2;
    }
    const char *mode = argv[1], *path = argv[4];
    size_t chunk = (size_t)atol(argv[2]), size = 1UL << 30;
    double seconds = atof(argv[3]);
    unlink(path);
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    if (fd < 0) { perror("open"); return 1; }
    int falloc = !strcmp(mode, "mmap-falloc") || !strcmp(mode, "pwrite-falloc") || !strcmp(mode, "mmap-warm");
    int zeroed = !strcmp(mode, "mmap-zeroed") || !strcmp(mode, "pwrite-zeroed");
    if (falloc && posix_fallocate(fd, 0, (off_t)size) != 0) { perror("posix_fallocate"); return 1; }
    if (!strcmp(mode, "mmap-sparse") && ftruncate(fd, (off_t)size) != 0) { perror("ftruncate"); return 1; }
    if (zeroed) {
        char *zeros = calloc(1, 1 << 20);
        for (size_t o = 0; o < size / 4; o += 1 << 20) {
            if (pwrite(fd, zeros, 1 << 20, (off_t)o) != 1 << 20) { perror("pwrite"); return 1; }
        }
        fdatasync(fd);
        if (ftruncate(fd, (off_t)size) != 0) { perror("ftruncate"); return 1; }
        free(zeros);
    }
    char *map = NULL;
    if (!strncmp(mode, "mmap", 4)) {
        map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (map == MAP_FAILED) { perror("mmap"); return 1; }
    }
    if (!strcmp(mode, "mmap-warm")) {
        madvise(map, size / 4, MADV_POPULATE_WRITE);
        sync_file_range(fd, 0, (off_t)(size / 4),
                        SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
        fdatasync(fd);
        madvise(map, size / 4, MADV_POPULATE_WRITE);
    }
    char *buffer = malloc(chunk);
    memset(buffer, 'x', chunk);
    size_t offset = 0;
    int rounds = 0;
    double start = now(), end = start + seconds;
    while (now() < end && offset + chunk <= size / 4) {
        if (!strcmp(mode, "append")) {
            if (write(fd, buffer, chunk) != (ssize_t)chunk) { perror("write"); return 1; }
            fdatasync(fd);
        } else if (map) {
            memcpy(map + offset, buffer, chunk);
            size_t page = offset & ~4095UL;
            if (msync(map + page, offset + chunk - page, MS_SYNC) != 0) { perror("msync"); return 1; }
        } else {
            if (pwrite(fd, buffer, chunk, (off_t)offset) != (ssize_t)chunk) { perror("pwrite"); return 1; }
            fdatasync(fd);
        }
        offset += chunk;
        rounds++;
    }
    double elapsed = now() - start;
    printf("%-14s chunk %zu: %.3f ms per round, %.1f MB/s (%d rounds)\n", mode, chunk, elapsed * 1000 / rounds,
           offset / elapsed / 1e6, rounds);
    unlink(path);
    return 0;
}
