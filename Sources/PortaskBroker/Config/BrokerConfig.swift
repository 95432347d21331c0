import Foundation
import LogEngine

/// The broker's configuration, read from Kafka-named properties (`server.properties`, `--override`,
/// `PORTASK_*` environment variables). A `Sendable` value; thread-safe.
public struct BrokerConfig: Sendable {
    /// Every property as given (after precedence), by Kafka name; defaults are not included.
    public var properties: [String: String]

    /// Whether the broker is one of a cluster (`metadata.etcd.endpoints` is set) rather than a single node.
    public var isClustered: Bool {
        !(properties["metadata.etcd.endpoints"] ?? "").trimmingWhitespace().isEmpty
    }

    public var nodeId: Int32
    public var listeners: [Listener]
    public var advertisedListeners: [Listener]
    /// The security of each listener, in the order of `listeners`.
    public var listenerSecurity: [ListenerSecurity]
    /// Whether `authorizer.class.name` enables the ACL authorizer.
    public var authorizerEnabled: Bool
    /// `super.users` as principals (`User:name`).
    public var superUsers: [String]
    public var allowEveryoneIfNoAclFound: Bool
    /// `scram.bootstrap.credentials`: SCRAM users created at start-up when they have no credential yet.
    public var scramBootstrapCredentials: [ScramBootstrapCredential]
    public var dataDirectory: String
    /// The cluster id written to a new data directory's `meta.properties` (cluster mode: the cluster's, read
    /// from the metadata store before the logs open); nil picks a new random id.
    public var clusterId: String?
    public var numPartitions: Int
    public var autoCreateTopics: Bool
    public var socketRequestMaxBytes: Int
    public var queuedMaxRequests: Int
    public var queuedMaxRequestBytes: Int
    public var messageMaxBytes: Int
    /// Kafka's `fetch.max.bytes`.
    public var fetchMaxBytes: Int
    /// Kafka's `max.connections` and `max.connections.per.ip`.
    public var maxConnections: Int
    public var maxConnectionsPerIp: Int
    /// The most partitions the broker holds (`max.partitions`); 0 derives it from the open-file limit.
    public var maxPartitions: Int
    /// The most partitions one DescribeTopicPartitions response describes (`max.request.partition.size.limit`).
    public var maxRequestPartitionSizeLimit: Int
    /// Client quota rates are measured over this many windows (`quota.window.num`) ...
    public var quotaWindowNum: Int
    /// ... of this many seconds each (`quota.window.size.seconds`).
    public var quotaWindowSizeSeconds: Int
    public var logSegmentBytes: Int
    public var logRollMs: Int64
    public var logRetentionMs: Int64
    public var logRetentionBytes: Int64
    public var logRetentionCheckIntervalMs: Int64
    public var logIndexIntervalBytes: Int
    public var logIndexSizeMaxBytes: Int
    public var logFlushIntervalMessages: Int64
    public var logFlushIntervalMs: Int64?
    public var metricsListener: String?
    /// The log cleaner: `log.cleaner.enable`, `log.cleaner.threads`, `log.cleaner.backoff.ms`,
    /// `log.cleaner.dedupe.buffer.size`, `log.cleaner.io.buffer.load.factor`, `log.cleaner.io.max.bytes.per.second`.
    public var logCleanerEnable: Bool
    /// `offsets.topic.segment.bytes`: `segment.bytes` of `__consumer_offsets` at creation.
    public var offsetsTopicSegmentBytes: Int
    public var logCleanerThreads: Int
    public var logCleanerBackoffMs: Int64
    public var logCleanerDedupeBufferSize: Int64
    public var logCleanerIoBufferLoadFactor: Double
    public var logCleanerIoMaxBytesPerSecond: Double
    /// `producer.id.expiration.ms` (ms).
    public var producerIdExpirationMs: Int64
    /// The topic configs at broker level (resolved once), and the resolver of each topic's overrides.
    public private(set) var topicConfigResolver: TopicConfigResolver

    /// Builds the configuration from properties; unknown names are kept (and reported by `unknownProperties`),
    /// values of the wrong type are errors with Kafka's wording.
    public init(properties: [String: String] = [:]) throws {
        for (name, value) in properties {
            if let definition = BrokerConfigDefinition.byName[name], let problem = definition.validate(value) {
                throw BrokerError(.configuration, problem)
            }
        }
        self.properties = properties
        func value(_ name: String) -> String? {
            (properties[name] ?? BrokerConfigDefinition.byName[name]?.defaultValue)?.trimmingWhitespace()
        }
        func int(_ name: String) -> Int { value(name).flatMap { Int($0) } ?? 0 }
        func long(_ name: String) -> Int64? { value(name).flatMap { Int64($0) } }

        nodeId = Int32(properties["node.id"] ?? properties["broker.id"] ?? "0") ?? 0
        listeners = try (value("listeners") ?? "").split(separator: ",").map { try Listener(parsing: String($0)) }
        guard !listeners.isEmpty else { throw BrokerError(.configuration, "listeners is empty") }
        guard Set(listeners.map(\.name)).count == listeners.count else {
            throw BrokerError(.configuration, "Each listener must have a different name, listeners: \(value("listeners") ?? "")")
        }
        let protocols = try SecurityProtocol.parseMap(value("listener.security.protocol.map") ?? "")
        listenerSecurity = try listeners.map { listener in
            guard let securityProtocol = protocols[listener.name.uppercased()] else {
                throw BrokerError(.configuration, "No security protocol defined for listener \(listener.name)")
            }
            return try ListenerSecurity(
                listenerName: listener.name, securityProtocol: securityProtocol, properties: properties)
        }
        let configured = try (properties["advertised.listeners"] ?? "").split(separator: ",")
            .map { try Listener(parsing: String($0)) }
        for advertised in configured where !listeners.contains(where: { $0.name == advertised.name }) {
            throw BrokerError(
                .configuration, "advertised.listeners listener names must be equal to or a subset of the ones defined in listeners: \(advertised.name)")
        }
        advertisedListeners = listeners.map { listener in
            configured.first { $0.name == listener.name }
                ?? Listener(
                    name: listener.name,
                    host: listener.host == "0.0.0.0" || listener.host == "::" ? "127.0.0.1" : listener.host,
                    port: listener.port)
        }
        let authorizer = value("authorizer.class.name") ?? ""
        guard authorizer.isEmpty || authorizer == StandardAuthorizer.className || authorizer == StandardAuthorizer.legacyClassName else {
            throw BrokerError(.configuration, "authorizer.class.name \(authorizer) is not served; use \(StandardAuthorizer.className)")
        }
        authorizerEnabled = !authorizer.isEmpty
        superUsers = (value("super.users") ?? "").split(separator: ";").map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
        allowEveryoneIfNoAclFound = value("allow.everyone.if.no.acl.found")?.lowercased() == "true"
        scramBootstrapCredentials = try ScramBootstrapCredential.parseList(properties["scram.bootstrap.credentials"] ?? "")
        let directories = (properties["log.dirs"] ?? value("log.dir") ?? "").split(separator: ",").map { $0.trimmingWhitespace() }
        guard let first = directories.first, !first.isEmpty else { throw BrokerError(.configuration, "log.dirs is empty") }
        dataDirectory = first
        numPartitions = int("num.partitions")
        autoCreateTopics = value("auto.create.topics.enable")?.lowercased() == "true"
        socketRequestMaxBytes = int("socket.request.max.bytes")
        queuedMaxRequests = max(1, int("queued.max.requests"))
        let requestBytes = long("queued.max.request.bytes") ?? 104_857_600
        queuedMaxRequestBytes = requestBytes <= 0 ? Int.max : Int(requestBytes)
        messageMaxBytes = int("message.max.bytes")
        fetchMaxBytes = max(0, int("fetch.max.bytes"))
        maxConnections = max(0, int("max.connections"))
        maxConnectionsPerIp = max(0, int("max.connections.per.ip"))
        maxPartitions = max(0, int("max.partitions"))
        maxRequestPartitionSizeLimit = max(1, int("max.request.partition.size.limit"))
        quotaWindowNum = min(max(2, int("quota.window.num")), 3600)
        quotaWindowSizeSeconds = min(max(1, int("quota.window.size.seconds")), 3600)
        logSegmentBytes = int("log.segment.bytes")
        logRollMs = long("log.roll.ms") ?? Int64(int("log.roll.hours")) * 3_600_000
        if let ms = long("log.retention.ms") {
            logRetentionMs = ms
        } else if let minutes = long("log.retention.minutes") {
            logRetentionMs = minutes * 60_000
        } else {
            logRetentionMs = Int64(int("log.retention.hours")) * 3_600_000
        }
        logRetentionBytes = long("log.retention.bytes") ?? -1
        logRetentionCheckIntervalMs = long("log.retention.check.interval.ms") ?? 300_000
        logIndexIntervalBytes = int("log.index.interval.bytes")
        logIndexSizeMaxBytes = int("log.index.size.max.bytes")
        logFlushIntervalMessages = long("log.flush.interval.messages") ?? Int64.max
        logFlushIntervalMs = long("log.flush.interval.ms")
        metricsListener = value("metrics.listener")
        logCleanerEnable = value("log.cleaner.enable")?.lowercased() != "false"
        offsetsTopicSegmentBytes = max(int("offsets.topic.segment.bytes"), 1_048_576)
        logCleanerThreads = int("log.cleaner.threads")
        logCleanerBackoffMs = long("log.cleaner.backoff.ms") ?? 15_000
        logCleanerDedupeBufferSize = long("log.cleaner.dedupe.buffer.size") ?? 134_217_728
        logCleanerIoBufferLoadFactor = value("log.cleaner.io.buffer.load.factor").flatMap { Double($0) } ?? 0.9
        logCleanerIoMaxBytesPerSecond = value("log.cleaner.io.max.bytes.per.second").flatMap { Double($0) }
            ?? Double.greatestFiniteMagnitude
        guard logCleanerThreads >= 0, logCleanerBackoffMs >= 0, logCleanerDedupeBufferSize >= 0,
              logCleanerIoBufferLoadFactor > 0, logCleanerIoBufferLoadFactor <= 1, logCleanerIoMaxBytesPerSecond > 0
        else {
            throw BrokerError(.configuration, "Invalid log.cleaner.* configuration: values must be positive "
                + "(log.cleaner.io.buffer.load.factor at most 1)")
        }
        producerIdExpirationMs = long("producer.id.expiration.ms") ?? 86_400_000
        topicConfigResolver = try TopicConfigResolver(properties: properties)
        guard numPartitions >= 1 else {
            throw BrokerError(.configuration, "Invalid value \(numPartitions) for configuration num.partitions: Value must be at least 1")
        }
        guard socketRequestMaxBytes >= 1024 else {
            throw BrokerError(.configuration, "Invalid value \(socketRequestMaxBytes) for configuration socket.request.max.bytes: Value must be at least 1024")
        }
    }

    /// The typed configuration of a topic with config `overrides`.
    public func topicConfig(overrides: [String: String] = [:]) -> TopicConfig {
        topicConfigResolver.resolve(overrides)
    }

    /// The `LogConfig` of a partition of a topic with config `overrides`.
    public func logConfig(overrides: [String: String] = [:]) -> LogConfig {
        topicConfig(overrides: overrides).logConfig(producerIdExpirationMs: producerIdExpirationMs)
    }

    /// Given properties that portaskd does not know (Kafka warns about these and goes on).
    public var unknownProperties: [String] {
        properties.keys.filter { !Self.isKnown($0) }.sorted()
    }

    /// Whether `name` is a property portaskd knows, directly or as a listener override
    /// (`listener.name.<listener>.<property>`, `listener.name.<listener>.<mechanism>.sasl.jaas.config` and
    /// `.connections.max.reauth.ms`).
    static func isKnown(_ name: String) -> Bool {
        if BrokerConfigDefinition.byName[name] != nil { return true }
        guard name.hasPrefix("listener.name.") else { return false }
        let rest = name.dropFirst("listener.name.".count)
        guard let dot = rest.firstIndex(of: ".") else { return false }
        let property = String(rest[rest.index(after: dot)...])
        if BrokerConfigDefinition.byName[property] != nil { return true }
        if property.hasSuffix(".sasl.jaas.config") || property.hasSuffix(".connections.max.reauth.ms") { return true }
        // listener.name.<listener>.<mechanism>.<sasl property>
        guard let mechanismDot = property.firstIndex(of: ".") else { return false }
        return BrokerConfigDefinition.byName[String(property[property.index(after: mechanismDot)...])] != nil
    }

    /// Merges the sources in Kafka's order of precedence: file, then environment (`PORTASK_LOG_DIRS` →
    /// `log.dirs`, for known property names only), then `--override name=value`.
    public static func merge(
        file: [String: String], environment: [String: String], overrides: [String]
    ) throws -> [String: String] {
        var merged = file
        for (key, value) in environment where key.hasPrefix("PORTASK_") && key != "PORTASK_CONFIG" {
            let name = key.dropFirst("PORTASK_".count).lowercased().replacingOccurrences(of: "_", with: ".")
            if BrokerConfigDefinition.byName[name] != nil { merged[name] = value }
        }
        for override in overrides {
            guard let equals = override.firstIndex(of: "="), equals != override.startIndex else {
                throw BrokerError(.configuration, "--override '\(override)' is not of the form name=value")
            }
            merged[String(override[..<equals])] = String(override[override.index(after: equals)...])
        }
        return merged
    }
}
