extension MappedFile {
    /// Drops the file's contents from `offset` to its end: ftruncate(offset) (the kernel zeroes the rest of
    /// the partial page and frees later blocks and cached pages) then posix_fallocate back to `size`, so the
    /// mapping stays valid and the range reads as zeros. Used to erase a torn tail, however far stale
    /// bytes reach. Precondition: nobody reads or writes the range meanwhile.
    public func discardTail(from offset: Int) throws {
        fatalError("contract")
    }
}
