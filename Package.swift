// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Portask",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "KafkaProtocol", targets: ["KafkaProtocol"]),
        .library(name: "LogEngine", targets: ["LogEngine"]),
        .library(name: "EtcdClient", targets: ["EtcdClient"]),
        .library(name: "PortaskBroker", targets: ["PortaskBroker"]),
        .executable(name: "portaskd", targets: ["portaskd"]),
        .executable(name: "portask-codegen", targets: ["portask-codegen"]),
        .executable(name: "portask-bench", targets: ["portask-bench"]),
        .executable(name: "portask-verify", targets: ["portask-verify"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-atomics.git", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
    ],
    targets: [
        .target(
            name: "KafkaProtocol",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")]
        ),
        .target(name: "CCRC32C"),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
        .systemLibrary(name: "CSnappy", pkgConfig: "snappy", providers: [.apt(["libsnappy-dev"])]),
        .target(
            name: "LogEngine",
            dependencies: [
                "CCRC32C",
                "CZlib",
                "CZstd",
                "CLZ4",
                "CSnappy",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Atomics", package: "swift-atomics"),
            ],
            exclude: ["CONCURRENCY.md"]
        ),
        .target(
            name: "EtcdClient",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .target(
            name: "PortaskBroker",
            dependencies: [
                "KafkaProtocol",
                "LogEngine",
                "EtcdClient",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
            ]
        ),
        .executableTarget(
            name: "portaskd",
            dependencies: [
                "PortaskBroker",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(name: "CodegenKit", path: "tools/codegen/CodegenKit"),
        .executableTarget(name: "portask-codegen", dependencies: ["CodegenKit"], path: "tools/codegen/portask-codegen"),
        .executableTarget(
            name: "logengine-crash-writer",
            dependencies: ["LogEngine", .product(name: "NIOCore", package: "swift-nio")],
            path: "tools/logengine-crash-writer"
        ),
        .executableTarget(
            name: "portask-bench",
            dependencies: [
                "KafkaProtocol",
                "LogEngine",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            path: "tools/portask-bench"
        ),
        .target(
            name: "PortaskVerifyKit",
            dependencies: ["LogEngine", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "tools/portask-verify/PortaskVerifyKit"
        ),
        .executableTarget(
            name: "portask-verify", dependencies: ["PortaskVerifyKit"], path: "tools/portask-verify/portask-verify"
        ),
        .testTarget(
            name: "KafkaProtocolTests",
            dependencies: [
                "KafkaProtocol", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(name: "LogEngineTests", dependencies: ["LogEngine"]),
        .testTarget(name: "EtcdClientTests", dependencies: ["EtcdClient", "PortaskBroker"]),
        .testTarget(
            name: "PortaskBrokerTests",
            dependencies: [
                "PortaskBroker", .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "PortaskVerifyTests",
            dependencies: ["PortaskVerifyKit", "LogEngine", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .testTarget(name: "CodegenKitTests", dependencies: ["CodegenKit"], path: "tools/codegen/CodegenKitTests"),
    ],
    swiftLanguageModes: [.v6]
)
