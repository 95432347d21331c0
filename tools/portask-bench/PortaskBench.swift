import ArgumentParser

/// `portask-bench`: a Kafka-protocol load generator (produce and consume) reporting throughput and latency
/// percentiles.
@main
struct PortaskBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "portask-bench",
        abstract: "Kafka-protocol load generator: produce and consume throughput and latency.",
        subcommands: [ProduceCommand.self, ConsumeCommand.self])
}
