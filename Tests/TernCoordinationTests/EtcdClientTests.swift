import NIOCore
import NIOPosix
import Testing
@testable import TernCoordination

/// Runs `body` against a fresh etcd process and a client of it; etcd is killed afterwards.
func withEtcd(_ body: (EtcdProcess, EtcdClient, any EventLoopGroup) async throws -> Void) async throws {
    let group = MultiThreadedEventLoopGroup.singleton
    let etcd = try await EtcdProcess.start(group: group)
    defer { etcd.stop() }
    // 3 s per call: a loaded CI machine (every suite in parallel) delays etcd's answers past the 1 s default.
    try await body(etcd, EtcdClient(endpoints: [etcd.endpoint], group: group, requestTimeout: .seconds(3)), group)
}

/// Polls `condition` every 50 ms until it holds or `seconds` pass.
func eventually(seconds: Double, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}

@Suite struct EtcdClientTests {
    @Test func endpointsParse() {
        #expect(EtcdEndpoint.parseList("http://a:1;http://b:2") == [EtcdEndpoint(host: "a", port: 1), EtcdEndpoint(host: "b", port: 2)])
        #expect(EtcdEndpoint.parseList(" 10.0.0.1 , http://h:2380/ ") == [EtcdEndpoint(host: "10.0.0.1", port: 2379),
                                                                           EtcdEndpoint(host: "h", port: 2380)])
        #expect(EtcdEndpoint.parseList("https://a:1") == nil)
        #expect(EtcdEndpoint.parseList("http://a:x") == nil)
        #expect(EtcdEndpoint.parseList("") == nil)
    }

    @Test func prefixEnd() {
        #expect(Wire.prefixEnd("/a/") == Array("/a0".utf8))
        #expect(Wire.prefixEnd("a\u{7f}") == [0x61, 0x80])
    }

    @Test func putGetDeletePrefix() async throws {
        try await withEtcd { _, etcd, _ in
            #expect(try await etcd.get("/t/a") == nil)
            let revision = try await etcd.put("/t/a", Array("one".utf8))
            try await etcd.put("/t/b", Array("two".utf8))
            try await etcd.put("/u", [0, 255, 7])
            let a = try #require(try await etcd.get("/t/a"))
            #expect(a.value == Array("one".utf8) && a.createRevision == revision && a.version == 1 && a.lease == 0)
            #expect(try await etcd.get("/u")?.value == [0, 255, 7])
            #expect(try await etcd.get(prefix: "/t/").map(\.key) == ["/t/a", "/t/b"])
            #expect(try await etcd.delete("/t/a") == 1)
            #expect(try await etcd.delete("/t/a") == 0)
            #expect(try await etcd.get(prefix: "/t/").map(\.key) == ["/t/b"])
        }
    }

    /// Create-if-absent succeeds once; a compare on a stale mod revision fails and returns the current value.
    @Test func txnCompareAndPut() async throws {
        try await withEtcd { _, etcd, _ in
            let create = EtcdTxn(if: [.createRevision("/k", equals: 0)], then: [.put("/k", [1])], else: [.get("/k")])
            let first = try await etcd.txn(create)
            #expect(first.succeeded && first.kvs.isEmpty)
            let second = try await etcd.txn(create)
            #expect(!second.succeeded && second.kvs.map(\.value) == [[1]])
            let stale = second.kvs[0].modRevision
            try await etcd.put("/k", [2])
            let cas = try await etcd.txn(EtcdTxn(if: [.modRevision("/k", equals: stale)], then: [.put("/k", [3])], else: [.get("/k")]))
            #expect(!cas.succeeded && cas.kvs.map(\.value) == [[2]])
            let byValue = try await etcd.txn(EtcdTxn(if: [.value("/k", equals: [2])], then: [.put("/k", [4]), .delete("/k2")]))
            #expect(byValue.succeeded)
            #expect(try await etcd.get("/k")?.value == [4])
        }
    }

    /// A key under a lease lives while the lease is kept alive, vanishes when it expires, and a revoke
    /// deletes it at once.
    @Test func leaseKeepAliveExpiryRevoke() async throws {
        try await withEtcd { _, etcd, _ in
            let lease = try await etcd.grantLease(ttlSeconds: 2)
            #expect(lease.ttlSeconds == 2)
            try await etcd.put("/leased", [1], lease: lease.id)
            #expect(try await etcd.get("/leased")?.lease == lease.id)
            // Kept alive across 3 s (longer than the TTL).
            for _ in 0..<6 {
                #expect(try await etcd.keepAlive(lease.id) == 2)
                try await Task.sleep(for: .milliseconds(500))
            }
            #expect(try await etcd.get("/leased") != nil)
            // Left alone: gone within TTL (+ etcd's expiry check granularity).
            #expect(try await eventually(seconds: 5) { try await etcd.get("/leased") == nil })
            #expect(try await etcd.timeToLive(lease.id) == -1)
            #expect(try await etcd.keepAlive(lease.id) == 0)

            let other = try await etcd.grantLease(ttlSeconds: 60)
            try await etcd.put("/revoked", [1], lease: other.id)
            try await etcd.revokeLease(other.id)
            #expect(try await etcd.get("/revoked") == nil)
            try await etcd.revokeLease(other.id)  // already gone: not an error
            await #expect(throws: EtcdError.self) { try await etcd.put("/x", [1], lease: other.id) }
        }
    }

    /// A dead first endpoint costs one failed attempt; calls then stick to the live one. With none alive the
    /// error names every endpoint.
    @Test func failsOverBetweenEndpoints() async throws {
        try await withEtcd { etcd, _, group in
            let dead = EtcdEndpoint(host: "127.0.0.1", port: try await EtcdProcess.freePort(group))
            let client = EtcdClient(endpoints: [dead, etcd.endpoint], group: group, requestTimeout: .seconds(3))
            try await client.put("/f", [1])
            #expect(client.currentEndpoint == etcd.endpoint)
            #expect(try await client.get("/f")?.value == [1])
            let none = EtcdClient(endpoints: [dead], group: group, requestTimeout: .milliseconds(300))
            do {
                _ = try await none.get("/f")
                Issue.record("a dead endpoint answered")
            } catch let error as EtcdError {
                #expect(error.operation == "kv/range" && error.endpoint == "\(dead)")
                if case .unreachable = error.kind {} else { Issue.record("unexpected \(error)") }
            }
        }
    }
}
