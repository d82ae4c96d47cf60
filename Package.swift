// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Tern",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "TernSystem", targets: ["TernSystem"]),
        .library(name: "TernMessage", targets: ["TernMessage"]),
        .library(name: "TernStorage", targets: ["TernStorage"]),
        .library(name: "TernRemoting", targets: ["TernRemoting"]),
        .library(name: "TernProtocol", targets: ["TernProtocol"]),
        .library(name: "TernTransport", targets: ["TernTransport"]),
        .library(name: "TernNameServer", targets: ["TernNameServer"]),
        .library(name: "TernBroker", targets: ["TernBroker"]),
        .library(name: "TernReplication", targets: ["TernReplication"]),
        .library(name: "TernClient", targets: ["TernClient"]),
        .library(name: "TernCoordination", targets: ["TernCoordination"]),
        .library(name: "TernSecurity", targets: ["TernSecurity"]),
        .library(name: "TernOps", targets: ["TernOps"]),
        .library(name: "TernGateway", targets: ["TernGateway"]),
        .executable(name: "tern", targets: ["Tern"]),
        .executable(name: "tern-bench", targets: ["TernBench"]),
        .executable(name: "tern-inspect", targets: ["TernInspect"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.5.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // Debian's liblmdb-dev, found through pkg-config. Nothing but TernSystem imports it.
        .systemLibrary(
            name: "CLMDB",
            pkgConfig: "lmdb",
            providers: [.apt(["liblmdb-dev"])]
        ),
        // The only module that calls C besides TernChecksum: mmap'd files (and cache hints on them), fsync/msync,
        // file locks, LMDB, SHA-1 (swift-crypto's BoringSSL).
        .target(name: "TernSystem", dependencies: ["CLMDB", "CMemoryHints", .product(name: "Crypto", package: "swift-crypto")]),
        // Cache hints (prefetch) as inline C: Swift has no prefetch. Only TernSystem imports it.
        .target(name: "CMemoryHints"),
        // CRC-32, the one implementation: a native library loaded at run time (dlopen: libdeflate, else zlib), else
        // slicing-by-8 tables. Its own module so the codec gets the fast CRC without depending on TernSystem.
        .target(name: "TernChecksum"),
        // RocketMQ's stored-message record layout, properties, message ids, batch bodies, tag hash.
        // Pure Swift, no C: shared by the store, the remoting layer, the broker and the client.
        .target(name: "TernMessage", dependencies: ["TernChecksum"]),
        // Commit log, derived indexes (IndexStore), recovery, retention.
        .target(
            name: "TernStorage",
            dependencies: [
                "TernSystem",
                "TernChecksum",
                "TernMessage",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // RocketMQ RemotingCommand wire codec: framing, JSON and ROCKETMQ binary headers, request/response codes.
        // NIOCore only (ByteBuffer and the codec protocols); sockets and event loops belong to the servers.
        .target(
            name: "TernRemoting",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")]
        ),
        // RocketMQ's JSON bodies (topic configs, routes, heartbeats, lock sets) shared by servers and clients.
        .target(
            name: "TernProtocol",
            dependencies: [
                "TernRemoting",
                .product(name: "NIOCore", package: "swift-nio"),
                // zlib for the compressed broker registration, which both the broker and the name server read.
                .product(name: "CompressNIO", package: "compress-nio"),
            ]
        ),
        // Sockets: remoting server and client connections (opaque correlation, timeouts, idle close).
        .target(
            name: "TernTransport",
            dependencies: [
                "TernRemoting",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                // TLS on every remoting port (and the HA / HTTP ports, which build on this module's TLS setup).
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
            ]
        ),
        // Name server: broker registry, liveness, routes, cluster info; the HTTP name-server address document.
        .target(
            name: "TernNameServer",
            dependencies: [
                "TernTransport", "TernProtocol", "TernRemoting", "TernSecurity", "TernOps", "TernChecksum",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // RocketMQ's plain ACL: plain_acl.yml accounts (Yams), address patterns, permissions, HmacSHA1 request
        // signatures (swift-crypto), the file reloaded when it changes.
        .target(
            name: "TernSecurity",
            dependencies: [
                "TernRemoting", "TernSystem",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // HTTP for operations (Hummingbird): `GET /metrics` in Prometheus text format from a registry of one
        // server's own; metric names and labels (RocketMQ 5.1's plus tern_*). No broker or store types here.
        .target(
            name: "TernOps",
            dependencies: [
                "TernTransport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Built-in web console on the broker's HTTP port: server-side HTML pages, each a TernClient admin client
        // of this process's own broker over its remoting port (so ACL applies, as for rocketmq-dashboard).
        .target(
            name: "TernConsole",
            dependencies: [
                "TernOps", "TernClient", "TernProtocol", "TernRemoting", "TernSecurity", "TernTransport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Broker: request processors over the message store (send, pull + long polling, offsets, locks, admin).
        .target(
            name: "TernBroker",
            dependencies: [
                "TernStorage", "TernMessage", "TernChecksum", "TernSystem", "TernTransport", "TernProtocol",
                "TernRemoting", "TernReplication", "TernCoordination", "TernSecurity", "TernOps",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // RocketMQ HA: a master streams its commit log to slaves (HAService), a slave follows (HAClient).
        .target(
            name: "TernReplication",
            dependencies: [
                "TernStorage", "TernTransport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // etcd v3 client (JSON gateway over HTTP/1.1), leases, and leader election with lease fencing.
        .target(
            name: "TernCoordination",
            dependencies: [
                "TernSystem",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Small Swift producer / pull consumer / admin client over the same protocol.
        .target(
            name: "TernClient",
            dependencies: [
                "TernTransport", "TernProtocol", "TernRemoting", "TernMessage", "TernSecurity",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ]
        ),
        // HTTP gateway on httpPort: send, long-poll receive, ack / nack, /openapi.json; a TernClient of its own broker.
        .target(
            name: "TernGateway",
            dependencies: [
                "TernOps", "TernClient", "TernSecurity", "TernProtocol", "TernRemoting", "TernMessage", "TernTransport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // `tern standalone | namesrv | broker | admin`.
        .executableTarget(
            name: "Tern",
            dependencies: [
                "TernBroker", "TernNameServer", "TernClient", "TernProtocol", "TernStorage", "TernTransport",
                "TernCoordination", "TernSecurity", "TernOps", "TernConsole", "TernGateway",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // `tern-bench produce | consume | e2e | floor`: load generator with latency percentiles.
        .executableTarget(
            name: "TernBench",
            dependencies: [
                "TernClient", "TernMessage", "TernProtocol", "TernRemoting", "TernSecurity", "TernSystem",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "TernInspect",
            dependencies: [
                "TernStorage",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Fuzz harness (Fuzz/README.md): replays corpus files in a normal build; `tools/fuzz` builds it with libFuzzer.
        .executableTarget(
            name: "TernFuzz",
            dependencies: [
                "TernRemoting", "TernMessage", "TernBroker",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Fuzz/Sources/TernFuzz"
        ),
        // Child process used by crash tests: appends with sync flush and reports acknowledged offsets.
        .executableTarget(name: "TernCrashChild", dependencies: ["TernStorage", "TernTestSupport"], path: "Tests/TernCrashChild"),
        // Seeded generator shared by the test targets and the crash-test child.
        .target(name: "TernTestSupport", path: "Tests/TernTestSupport"),
        .testTarget(name: "TernSystemTests", dependencies: ["TernSystem", "TernTestSupport"]),
        .testTarget(name: "TernSecurityTests", dependencies: ["TernSecurity", "TernRemoting", "TernSystem", .product(name: "NIOCore", package: "swift-nio"), .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "TernChecksumTests", dependencies: ["TernChecksum", "TernTestSupport"]),
        .testTarget(name: "TernMessageTests", dependencies: ["TernMessage", "TernChecksum", "TernTestSupport"]),
        .testTarget(name: "TernStorageTests", dependencies: ["TernStorage", "TernChecksum", "TernCrashChild", "TernTestSupport"]),
        // OfflineStore (tern-inspect's engine), plus one smoke test of the built tern-inspect binary.
        .testTarget(name: "TernInspectTests", dependencies: ["TernStorage", "TernMessage", "TernSystem", "TernInspect", "TernTestSupport"]),
        .testTarget(
            name: "TernRemotingTests",
            dependencies: [
                "TernRemoting",
                "TernTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ]
        ),
        // Real RemotingServer on loopback against raw, misbehaving sockets.
        .testTarget(
            name: "TernTransportTests",
            dependencies: [
                "TernTransport", "TernRemoting", "TernTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "TernNameServerTests",
            dependencies: [
                "TernNameServer", "TernBroker", "TernTransport", "TernProtocol", "TernRemoting", "TernSecurity",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // TernClient against fake remoting servers answering canned, protocol-correct responses.
        .testTarget(
            name: "TernClientTests",
            dependencies: [
                "TernTestSupport",
                "TernClient", "TernTransport", "TernRemoting", "TernProtocol", "TernMessage",
                // Built so BenchSmokeTests can run the tern-bench binary.
                "TernBench",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // HA codec goldens, and master + slave stores streaming over loopback.
        .testTarget(
            name: "TernReplicationTests",
            dependencies: [
                "TernReplication", "TernStorage", "TernMessage", "TernTestSupport", "TernTransport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        // The ops HTTP server and the exposition over loopback; broker metrics through a real broker.
        .testTarget(
            name: "TernOpsTests",
            dependencies: [
                "TernOps", "TernBroker", "TernNameServer", "TernClient", "TernStorage", "TernTestSupport", "TernTransport",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // Console pages rendered from fixed admin answers: escaping, tables, forms.
        .testTarget(
            name: "TernConsoleTests",
            dependencies: [
                "TernConsole", "TernClient", "TernProtocol", "TernSecurity",
            ]
        ),
        // The etcd client and elections against a real `etcd` process on loopback.
        .testTarget(
            name: "TernCoordinationTests",
            dependencies: [
                "TernCoordination", "TernSystem",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // The gateway's codecs and cursors, and its routes in-process against a real broker.
        .testTarget(
            name: "TernGatewayTests",
            dependencies: [
                "TernGateway", "TernBroker", "TernNameServer", "TernClient", "TernOps", "TernProtocol", "TernTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // In-process name server + broker driven through TernClient and raw frames.
        .testTarget(
            name: "TernBrokerTests",
            dependencies: [
                "TernBroker", "TernNameServer", "TernClient", "TernTransport", "TernProtocol", "TernRemoting",
                "TernStorage", "TernMessage", "TernChecksum", "TernTestSupport", "TernReplication", "TernSecurity",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
    ]
)

// Compiler settings once, for every non-system target (settings on a system library are a manifest error).
for target in package.targets where target.type != .system {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    target.swiftSettings = settings
}
