import ArgumentParser
import NIOCore

/// `portask-bench consume`: fetches a topic from given offsets and measures throughput and fetch latency.
struct ConsumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consume",
        abstract: "Fetch a topic and report msgs/s, MB/s (record batch bytes) and fetch latency percentiles.")

    @OptionGroup var common: CommonOptions

    @Option(help: "Start offset: earliest, latest or a number (for every partition).")
    var from = "earliest"

    @Option(name: .shortAndLong, help: "Stop after this many messages (default: at the end offsets seen at start).")
    var count: Int?

    @Option(help: "Fetch max.wait.ms.")
    var maxWaitMs: Int32 = 500

    @Option(help: "Fetch max bytes (whole response).")
    var fetchMaxBytes: Int32 = 52_428_800

    @Option(help: "Fetch max bytes per partition.")
    var partitionMaxBytes: Int32 = 1_048_576

    @Flag(help: "Check the CRC-32C of every batch received.")
    var checkCrc = false

    func run() async throws {
        let result = try await common.withConnection { connection in
            let partitions = try await connection.partitions(of: common.topic)
            let start: [Int32: Int64]
            switch from {
            case "earliest": start = try await connection.offsets(of: common.topic, partitions: partitions, timestamp: -2)
            case "latest": start = try await connection.offsets(of: common.topic, partitions: partitions, timestamp: -1)
            default:
                guard let offset = Int64(from) else { throw ValidationError("--from: earliest, latest or a number") }
                start = Dictionary(uniqueKeysWithValues: partitions.map { ($0, offset) })
            }
            let end: [Int32: Int64]? = count == nil && common.duration == nil
                ? try await connection.offsets(of: common.topic, partitions: partitions, timestamp: -1) : nil
            let settings = ConsumeSettings(
                topic: common.topic, start: start, end: end, count: count, duration: common.durationAmount,
                maxWaitMs: maxWaitMs, fetchMaxBytes: fetchMaxBytes, partitionMaxBytes: partitionMaxBytes,
                checkCRC: checkCrc)
            let driver = ConsumeDriver(
                settings: settings, connection: connection, progress: ProgressLine.forTerminal(label: "consume"))
            return try await connection.eventLoop.flatSubmit { driver.start() }.get()
        }
        common.report(result, kind: "consume")
    }
}
