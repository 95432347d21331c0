// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Portask",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "KafkaProtocol", targets: ["KafkaProtocol"]),
        .library(name: "LogEngine", targets: ["LogEngine"]),
        .library(name: "PortaskBroker", targets: ["PortaskBroker"]),
        .executable(name: "portaskd", targets: ["portaskd"]),
        .executable(name: "portask-codegen", targets: ["portask-codegen"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-atomics.git", from: "1.3.0"),
    ],
    targets: [
        .target(
            name: "KafkaProtocol",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")]
        ),
        .target(name: "CCRC32C"),
        .target(
            name: "LogEngine",
            dependencies: [
                "CCRC32C",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Atomics", package: "swift-atomics"),
            ]
        ),
        .target(
            name: "PortaskBroker",
            dependencies: [
                "KafkaProtocol",
                "LogEngine",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(name: "portaskd", dependencies: ["PortaskBroker"]),
        .executableTarget(name: "portask-codegen", path: "tools/portask-codegen"),
        .executableTarget(
            name: "logengine-crash-writer",
            dependencies: ["LogEngine", .product(name: "NIOCore", package: "swift-nio")],
            path: "tools/logengine-crash-writer"
        ),
        .testTarget(
            name: "KafkaProtocolTests",
            dependencies: ["KafkaProtocol", .product(name: "NIOCore", package: "swift-nio")],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(name: "LogEngineTests", dependencies: ["LogEngine"]),
        .testTarget(name: "PortaskBrokerTests", dependencies: ["PortaskBroker"]),
    ],
    swiftLanguageModes: [.v6]
)
