/// Told how long the store's background work takes (metrics). Called on the flush and dispatch threads after
/// each round: must be quick and must not block.
public protocol StoreObserver: Sendable {
    /// One msync round made `bytes` durable in `nanos`.
    func flushed(bytes: Int64, nanos: UInt64)
    /// One index batch of `records` was derived and committed in `nanos`.
    func dispatched(records: Int, nanos: UInt64)
}
