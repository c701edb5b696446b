// swift-tools-version:6.2
import PackageDescription

/// Settings shared by every target of ours (not by dependencies).
let swiftSettings: [SwiftSetting] = [
    // SE-0335: spell out existential types with `any`.
    .enableUpcomingFeature("ExistentialAny"),
    // SE-0444: a file sees only the modules it imports itself.
    .enableUpcomingFeature("MemberImportVisibility"),
    // A warning in our code fails the build; dependencies are not affected.
    .treatAllWarnings(as: .error),
]

let package = Package(
    name: "billing-events",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "billing-events", targets: ["billing-events"]),
        .library(name: "Postgres", targets: ["Postgres"]),
        .library(name: "PostgresServer", targets: ["PostgresServer"]),
        // For the benchmarks package (Benchmarks/), which builds on the service's own modules.
        .library(name: "BillingCore", targets: ["BillingCore"]),
        .library(name: "BillingStore", targets: ["BillingStore"]),
        .library(name: "BillingHTTP", targets: ["BillingHTTP"]),
        .library(name: "BillingService", targets: ["BillingService"]),
        .library(name: "TestSupport", targets: ["TestSupport"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"]), .brew(["libpq"])]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]
        ),
        .target(name: "CivilCalendar", swiftSettings: swiftSettings),
        .target(
            name: "Postgres",
            dependencies: [
                "CivilCalendar",
                "CLibPQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PostgresServer",
            dependencies: ["Postgres", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "BillingCore",
            dependencies: [
                "CivilCalendar",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "BillingStore",
            dependencies: [
                "BillingCore",
                "CZlib",
                "Postgres",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            resources: [.copy("Migrations")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "BillingHTTP",
            dependencies: [
                "BillingCore",
                "BillingStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "BillingService",
            dependencies: [
                "BillingCore",
                "BillingHTTP",
                "BillingStore",
                "Postgres",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "billing-events",
            dependencies: [
                "BillingCore",
                "BillingHTTP",
                "BillingService",
                "BillingStore",
                "Postgres",
                "PostgresServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "signature-timing",
            dependencies: ["BillingCore"],
            path: "Tests/Faults/signature-timing",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TestSupport",
            dependencies: [
                "Postgres", "PostgresServer", .product(name: "Logging", package: "swift-log"), .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "CivilCalendarTests", dependencies: ["CivilCalendar"], swiftSettings: swiftSettings),
        .testTarget(
            name: "PostgresTests",
            dependencies: ["Postgres", "PostgresServer", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PostgresServerTests",
            dependencies: ["Postgres", "PostgresServer", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BillingCoreTests",
            dependencies: ["BillingCore", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BillingStoreTests",
            dependencies: ["BillingCore", "BillingStore", "Postgres", "PostgresServer", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BillingServiceTests",
            dependencies: [
                "BillingCore", "BillingService", "BillingStore", "Postgres", "TestSupport",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ServeTests",
            dependencies: [
                "BillingCore", "BillingStore", "Postgres", "PostgresServer", "TestSupport",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BillingHTTPTests",
            dependencies: [
                "BillingCore",
                "BillingHTTP",
                "BillingService",
                "BillingStore",
                "Postgres",
                "PostgresServer",
                "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
