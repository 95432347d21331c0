import ArgumentParser
import LogEngine
import NIOCore

/// `portask-bench produce`: sends record batches v2 and measures throughput and ack latency.
struct ProduceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "produce", abstract: "Produce messages and report msgs/s, MB/s and ack latency percentiles.")

    @OptionGroup var common: CommonOptions

    @Option(name: .shortAndLong, help: "Message (value) size in bytes.")
    var size = 100

    @Option(name: .shortAndLong, help: "Messages to produce (default 100000 unless --duration is given).")
    var count: Int?

    @Option(help: "Messages per second; 0 is unlimited.")
    var rate: Double = 0

    @Option(help: "Partitions to create the topic with (and spread batches over).")
    var partitions = 1

    @Option(help: "Acks: 0, 1 or all (also -1, written --acks=-1).")
    var acks = "1"

    private var acksValue: Int16? { ["0": 0, "1": 1, "all": -1, "-1": -1][acks] }

    @Option(help: "Batch size in bytes (records section).")
    var batchSize = 1_000_000

    @Option(help: "Linger in milliseconds before a partial batch is sent.")
    var lingerMs = 5

    @Option(help: "Compression: none, gzip, snappy, lz4, zstd.")
    var compression = "none"

    @Option(help: "Maximum Produce requests in flight.")
    var inFlight = 5

    func validate() throws {
        guard size >= 0, partitions >= 1, inFlight >= 1, batchSize >= 1, lingerMs >= 0, rate >= 0 else {
            throw ValidationError("sizes, partitions, in-flight and batch size must be positive")
        }
        guard acksValue != nil else { throw ValidationError("--acks must be 0, 1, all or -1") }
        guard CompressionCodec.allCases.contains(where: { $0.description == compression }) else {
            throw ValidationError("--compression must be none, gzip, snappy, lz4 or zstd")
        }
    }

    func run() async throws {
        let codec = CompressionCodec.allCases.first { $0.description == compression }!
        let total = count ?? (common.duration == nil ? 100_000 : nil)
        let result = try await common.withConnection { connection in
            try await connection.createTopic(common.topic, partitions: partitions)
            let known = try await connection.partitions(of: common.topic)
            let settings = ProduceSettings(
                topic: common.topic, partitions: Array(known.prefix(partitions)), messageSize: size, count: total,
                duration: common.durationAmount, rate: rate, acks: acksValue!, batchBytes: batchSize, lingerMs: lingerMs,
                codec: codec, maxInFlight: inFlight)
            let driver = ProduceDriver(
                settings: settings, connection: connection, progress: ProgressLine.forTerminal(label: "produce"))
            return try await connection.eventLoop.flatSubmit { driver.start() }.get()
        }
        common.report(result, kind: "produce")
    }
}
