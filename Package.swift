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
        .executable(name: "tern-inspect", targets: ["TernInspect"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
    ],
    targets: [
        // Debian's liblmdb-dev, found through pkg-config. Nothing but TernSystem imports it.
        .systemLibrary(
            name: "CLMDB",
            pkgConfig: "lmdb",
            providers: [.apt(["liblmdb-dev"])]
        ),
        // The only module that calls C: mmap'd files, fsync/msync, file locks, LMDB.
        .target(name: "TernSystem", dependencies: ["CLMDB"]),
        // RocketMQ's stored-message record layout, properties, message ids, batch bodies, CRC32, tag hash.
        // Pure Swift, no C: shared by the store, the remoting layer, the broker and the client.
        .target(name: "TernMessage"),
        // Commit log, derived indexes (IndexStore), recovery, retention.
        .target(
            name: "TernStorage",
            dependencies: [
                "TernSystem",
                "TernMessage",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // RocketMQ RemotingCommand wire codec: framing, JSON and ROCKETMQ binary headers, request/response codes.
        // NIOCore only (ByteBuffer and the codec protocols); sockets and event loops belong to the servers.
        .target(
            name: "TernRemoting",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")]
        ),
        .executableTarget(
            name: "TernInspect",
            dependencies: [
                "TernStorage",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Child process used by crash tests: appends with sync flush and reports acknowledged offsets.
        .executableTarget(name: "TernCrashChild", dependencies: ["TernStorage", "TernTestSupport"], path: "Tests/TernCrashChild"),
        // Seeded generator shared by the test targets and the crash-test child.
        .target(name: "TernTestSupport", path: "Tests/TernTestSupport"),
        .testTarget(name: "TernSystemTests", dependencies: ["TernSystem"]),
        .testTarget(name: "TernMessageTests", dependencies: ["TernMessage", "TernTestSupport"]),
        .testTarget(name: "TernStorageTests", dependencies: ["TernStorage", "TernCrashChild", "TernTestSupport"]),
        // OfflineStore (tern-inspect's engine), plus one smoke test of the built tern-inspect binary.
        .testTarget(name: "TernInspectTests", dependencies: ["TernStorage", "TernMessage", "TernSystem", "TernInspect"]),
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
    ]
)

// Compiler settings once, for every non-system target (settings on a system library are a manifest error).
for target in package.targets where target.type != .system {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    target.swiftSettings = settings
}
