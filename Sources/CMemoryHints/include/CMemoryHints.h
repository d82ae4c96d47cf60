#ifndef C_MEMORY_HINTS_H
#define C_MEMORY_HINTS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/// Asks the CPU to start loading the cache lines of [address, address + count) for reading (a hint: it never
/// faults, changes no memory and may be dropped). For memory about to be read in full soon after, so its
/// cache misses overlap other work instead of stalling the reader one after another.
static inline void tern_prefetch_read(const void *address, size_t count) {
    uintptr_t line = (uintptr_t)address & ~(uintptr_t)63;
    uintptr_t end = (uintptr_t)address + count;
    for (; line < end; line += 64) {
        __builtin_prefetch((const void *)line, 0, 3);
    }
}

/// Writes back the dirty pages of [offset, offset + length) of `fd` and waits for them (sync_file_range with
/// WAIT_BEFORE | WRITE | WAIT_AFTER; Glibc's Swift module does not export it). Returns 0 or -1 with errno set.
/// Makes no metadata durable (not a substitute for fsync): the store uses it only to have the file system allocate
/// and convert blocks ahead of the writer.
int tern_write_back(int fd, off_t offset, off_t length);

#endif
