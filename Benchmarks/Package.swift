// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "PortaskBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "Portask", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "LogEngineBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "LogEngine", package: "Portask"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/LogEngineBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ],
    swiftLanguageModes: [.v6]
)
