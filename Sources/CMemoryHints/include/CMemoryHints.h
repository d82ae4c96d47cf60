#ifndef C_MEMORY_HINTS_H
#define C_MEMORY_HINTS_H

#include <stddef.h>
#include <stdint.h>

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

#endif
