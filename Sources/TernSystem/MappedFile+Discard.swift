import Glibc

extension MappedFile {
    /// Drops the file's contents from `offset` to its end: ftruncate(offset) (the kernel zeroes the rest of
    /// the partial page and frees later blocks and cached pages) then posix_fallocate back to `size` and
    /// fsync, so the mapping stays valid and the range reads as zeros, also after a crash. Used to erase a
    /// torn tail however far stale bytes reach.
    /// Precondition: nobody reads or writes the range meanwhile (between the two calls it lies past EOF,
    /// where an access would raise SIGBUS).
    public func discardTail(from offset: Int) throws {
        precondition(isWritable, "discardTail on a read-only mapping")
        precondition(offset >= 0 && offset <= size, "discardTail offset out of range")
        let fd = try Sys.open(path, O_RDWR)
        defer { Sys.close(fd, path) }
        try Sys.ftruncate(fd, offset, path)
        do {
            try Sys.posixFallocate(fd, size, path)
        } catch let error as SystemError where error.errno == EOPNOTSUPP {
            try Sys.ftruncate(fd, size, path)
        }
        try Sys.fsync(fd, path)
    }
}
