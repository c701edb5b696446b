// swift-tools-version:6.2
// The benchmarks: a package of their own, so `swift build` of the product never compiles them.
// They use the product's modules through the parent package (`..`); `scripts/bench-*` build them
// here in release (the first build compiles the dependencies again, into `Benchmarks/.build`).
import Foundation
import PackageDescription

/// SwiftPM names a package given by path after its directory, whatever the clone is called.
let product = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent.lowercased()

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .treatAllWarnings(as: .error),
]

/// What the benchmarks of the store (projections, backfill) build on.
let storeBenchmark: [Target.Dependency] = [
    "BenchSupport", .product(name: "BillingCore", package: product), .product(name: "BillingStore", package: product),
    .product(name: "Postgres", package: product), .product(name: "PostgresServer", package: product),
    .product(name: "TestSupport", package: product), .product(name: "Logging", package: "swift-log"),
]

let package = Package(
    name: "billing-events-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        .target(
            name: "BenchSupport",
            dependencies: [
                .product(name: "Postgres", package: product), .product(name: "PostgresServer", package: product),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "BenchSupport",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "postgres-bench",
            dependencies: [
                "BenchSupport", .product(name: "Postgres", package: product), .product(name: "PostgresServer", package: product),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "postgres-bench",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "projection-bench",
            dependencies: storeBenchmark,
            path: "projection-bench",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "backfill-bench",
            dependencies: storeBenchmark,
            path: "backfill-bench",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "query-bench",
            dependencies: [
                "BenchSupport", .product(name: "BillingCore", package: product), .product(name: "BillingStore", package: product),
                .product(name: "BillingHTTP", package: product), .product(name: "BillingService", package: product),
                .product(name: "Postgres", package: product), .product(name: "PostgresServer", package: product),
                .product(name: "Hummingbird", package: "hummingbird"), .product(name: "Logging", package: "swift-log"),
            ],
            path: "query-bench",
            swiftSettings: swiftSettings
        ),
    ]
)
