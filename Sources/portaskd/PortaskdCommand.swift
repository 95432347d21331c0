import ArgumentParser
import Foundation
import Logging
import PortaskBroker
import ServiceLifecycle

/// The `portaskd` command line: `portaskd [server.properties] [--override name=value]…`, as Kafka's start
/// script takes them, plus `PORTASK_*` environment variables.
@available(macOS 10.15, *)
struct PortaskdCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "portaskd",
        abstract: "Portask: a Kafka-wire-compatible message broker.",
        discussion: """
            With no arguments portaskd listens on 127.0.0.1:9092 and keeps its data in ./portask-data.
            Properties use Kafka's names. Precedence: the properties file, then environment variables
            (PORTASK_LOG_DIRS sets log.dirs: prefix PORTASK_, upper case, dots as underscores), then --override.

            Properties:
            \(BrokerConfigDefinition.all.map { definition in
                "  \(definition.name) (\(definition.type.rawValue), default: \(definition.defaultValue ?? "none"))\n      \(definition.documentation)"
            }.joined(separator: "\n"))
            """)

    @Argument(help: "A server.properties file.")
    var propertiesFile: String?

    @Option(name: .customLong("override"), help: "Sets a property: --override name=value (repeatable).")
    var overrides: [String] = []

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    init() {}

    func run() async throws {
        var fileProperties: [String: String] = [:]
        if let propertiesFile {
            guard let text = try? String(contentsOfFile: propertiesFile, encoding: .utf8) else {
                throw ValidationError("cannot read properties file \(propertiesFile)")
            }
            fileProperties = JavaProperties.parse(text)
        }
        var config: BrokerConfig
        let cluster: ClusterMetadataConfig?
        do {
            let merged = try BrokerConfig.merge(
                file: fileProperties, environment: ProcessInfo.processInfo.environment, overrides: overrides)
            config = try BrokerConfig(properties: merged)
            cluster = try ClusterMetadataConfig(config: config)
        } catch let error as BrokerError {
            throw ValidationError(error.message)
        }
        if let cluster {
            do {
                config.clusterId = try await ClusterNode.clusterIdForNewDataDirectory(
                    config: cluster, dataDirectory: config.dataDirectory)
            } catch {
                throw ValidationError("cannot read the cluster id from the metadata store (metadata.etcd.endpoints): \(error)")
            }
        }
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "portaskd")
        let broker = try Broker(config: config, logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: broker.services.map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
    }
}

@available(macOS 10.15, *)
extension PortaskdCommand {
    /// Parses the process arguments and runs the broker; exits with a message on bad arguments or config.
    static func runFromCommandLine() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
