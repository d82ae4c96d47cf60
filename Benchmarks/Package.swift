// swift-tools-version: 6.1
import PackageDescription

// Benchmarks for Tern, a nested package so the root package never depends on the benchmark tooling.
//
// - `tern-storage-bench`: the storage engine's scenarios from the storage issue, each measured together with
//   its raw baseline in the same run and reported as a ratio (human-readable or `--json`).
//   `swift run -c release --scratch-path .build-bench tern-storage-bench all`
// - `StorageBenchmarks`: package-benchmark (ordo-one/benchmark) suite for regression tracking of the hot paths
//   (wall clock, malloc count). `swift package --scratch-path .build-bench benchmark`
// - `SendPathBenchmarks`: the broker's send path on an EmbeddedChannel (no sockets), malloc count checked
//   against Thresholds/ (`swift package --scratch-path .build-bench benchmark thresholds check --target
//   SendPathBenchmarks --path Thresholds`).
let package = Package(
    name: "TernBenchmarks",
    platforms: [.macOS(.v15)],
    products: [.executable(name: "tern-storage-bench", targets: ["TernStorageBench"])],
    dependencies: [
        .package(name: "Tern", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        .executableTarget(
            name: "TernStorageBench",
            dependencies: [
                .product(name: "TernStorage", package: "Tern"),
                .product(name: "TernSystem", package: "Tern"),
                .product(name: "TernMessage", package: "Tern"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "StorageBenchmarks",
            dependencies: [
                .product(name: "TernStorage", package: "Tern"),
                .product(name: "TernSystem", package: "Tern"),
                .product(name: "TernMessage", package: "Tern"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/StorageBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "SendPathBenchmarks",
            dependencies: [
                .product(name: "TernBroker", package: "Tern"),
                .product(name: "TernRemoting", package: "Tern"),
                .product(name: "TernStorage", package: "Tern"),
                .product(name: "TernTransport", package: "Tern"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/SendPathBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)

// Compiler settings once, for every target (as in the root package).
for target in package.targets {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    target.swiftSettings = settings
}
