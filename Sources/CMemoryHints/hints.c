// The hints are static inline functions in include/CMemoryHints.h; the one call that needs _GNU_SOURCE is here.
#define _GNU_SOURCE
#include <fcntl.h>
#include "CMemoryHints.h"

int tern_write_back(int fd, off_t offset, off_t length) {
    return sync_file_range(fd, offset, length,
                           SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
}
