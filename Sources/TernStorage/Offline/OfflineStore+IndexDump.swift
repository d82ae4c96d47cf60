extension OfflineStore {
    /// Every LMDB table's exact contents (hex rows in key order): two stores whose dumps are equal hold
    /// identical indexes. Throws `.noIndex` when the store has no index on disk.
    public func dumpIndex() throws -> [IndexTableDump] {
        guard let lmdb = try requireIndex() as? LMDBIndexStore else { throw OfflineStoreError.noIndex(path: layout.indexPath) }
        return try lmdb.dumpTables()
    }

    /// The derivation config recorded in the index (nil: none recorded; rebuild-index and verify then use the
    /// default delay levels).
    public func recordedDerivation() throws -> DerivationConfig? { try index?.derivation() }
}
