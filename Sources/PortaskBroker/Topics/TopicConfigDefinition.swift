import LogEngine

/// One topic-level configuration property, by Kafka's name, with the broker property that supplies its
/// default. Drives validation (CreateTopics, AlterConfigs), DescribeConfigs and the `LogConfig` of partitions.
/// Immutable; thread-safe.
public struct TopicConfigDefinition: Sendable {
    public var name: String
    /// The broker property whose value is the default (DescribeConfigs' DEFAULT_CONFIG / STATIC_BROKER_CONFIG).
    public var brokerSynonym: String?
    public var type: BrokerConfigDefinition.ValueType
    /// Allowed values for enumerations; empty when free.
    public var allowed: [String]
    public var minimum: Int64?

    init(_ name: String, _ synonym: String?, _ type: BrokerConfigDefinition.ValueType, allowed: [String] = [], minimum: Int64? = nil) {
        self.name = name
        brokerSynonym = synonym
        self.type = type
        self.allowed = allowed
        self.minimum = minimum
    }

    public static let all: [TopicConfigDefinition] = [
        .init("cleanup.policy", "log.cleanup.policy", .list, allowed: ["delete", "compact"]),
        .init("compression.type", "compression.type", .string,
              allowed: ["uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"]),
        .init("delete.retention.ms", nil, .long, minimum: 0),
        .init("file.delete.delay.ms", nil, .long, minimum: 0),
        .init("flush.messages", "log.flush.interval.messages", .long, minimum: 1),
        .init("flush.ms", "log.flush.interval.ms", .long, minimum: 0),
        .init("index.interval.bytes", "log.index.interval.bytes", .int, minimum: 0),
        .init("max.message.bytes", "message.max.bytes", .int, minimum: 0),
        .init("message.timestamp.type", "log.message.timestamp.type", .string, allowed: ["CreateTime", "LogAppendTime"]),
        .init("min.insync.replicas", "min.insync.replicas", .int, minimum: 1),
        .init("retention.bytes", "log.retention.bytes", .long),
        .init("retention.ms", "log.retention.ms", .long, minimum: -1),
        .init("segment.bytes", "log.segment.bytes", .int, minimum: 14),
        .init("segment.index.bytes", "log.index.size.max.bytes", .int, minimum: 4),
        .init("segment.ms", "log.roll.ms", .long, minimum: 1),
    ]

    public static let byName: [String: TopicConfigDefinition] = Dictionary(
        all.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })

    /// Checks one topic config value; returns Kafka's message when it is unknown or invalid.
    public static func validate(name: String, value: String?) -> String? {
        guard let definition = byName[name] else { return "Unknown topic config name: \(name)" }
        guard let value else { return nil }
        let trimmed = value.trimmingWhitespace()
        switch definition.type {
        case .int, .long:
            guard let number = Int64(trimmed), definition.type == .long || Int32(exactly: number) != nil else {
                return "Invalid value \(value) for configuration \(name): Not a number of type \(definition.type == .int ? "INT" : "LONG")"
            }
            if let minimum = definition.minimum, number < minimum {
                return "Invalid value \(value) for configuration \(name): Value must be at least \(minimum)"
            }
        case .list:
            let items = trimmed.split(separator: ",").map { $0.trimmingWhitespace() }
            if !definition.allowed.isEmpty, let bad = items.first(where: { !definition.allowed.contains($0) }) {
                return "Invalid value \(bad) for configuration \(name): String must be one of: \(definition.allowed.joined(separator: ", "))"
            }
        case .string, .boolean:
            if !definition.allowed.isEmpty && !definition.allowed.contains(trimmed) {
                return "Invalid value \(value) for configuration \(name): String must be one of: \(definition.allowed.joined(separator: ", "))"
            }
        }
        return nil
    }

    /// The effective value of every topic config for a topic with `overrides`, and where it came from.
    public static func effective(
        overrides: [String: String], broker: BrokerConfig
    ) -> [(name: String, value: String?, source: ConfigSource)] {
        all.map { definition in
            if let value = overrides[definition.name] { return (definition.name, value, .topic) }
            if let synonym = definition.brokerSynonym, let value = broker.properties[synonym] {
                return (definition.name, value, .staticBroker)
            }
            return (definition.name, broker.defaultTopicValue(definition.name), .defaultValue)
        }
    }

    /// Where a config value comes from, with DescribeConfigs' source codes.
    public enum ConfigSource: Int8, Sendable {
        case topic = 1
        case staticBroker = 4
        case defaultValue = 5
    }
}

extension BrokerConfig {
    /// The broker-derived default of a topic config, as Kafka prints it.
    func defaultTopicValue(_ name: String) -> String? {
        switch name {
        case "cleanup.policy": return properties["log.cleanup.policy"] ?? "delete"
        case "compression.type": return properties["compression.type"] ?? "producer"
        case "delete.retention.ms": return "86400000"
        case "file.delete.delay.ms": return "60000"
        case "flush.messages": return String(logFlushIntervalMessages)
        case "flush.ms": return String(logFlushIntervalMs ?? Int64.max)
        case "index.interval.bytes": return String(logIndexIntervalBytes)
        case "max.message.bytes": return String(messageMaxBytes)
        case "message.timestamp.type": return properties["log.message.timestamp.type"] ?? "CreateTime"
        case "min.insync.replicas": return properties["min.insync.replicas"] ?? "1"
        case "retention.bytes": return String(logRetentionBytes)
        case "retention.ms": return String(logRetentionMs)
        case "segment.bytes": return String(logSegmentBytes)
        case "segment.index.bytes": return String(logIndexSizeMaxBytes)
        case "segment.ms": return String(logRollMs)
        default: return nil
        }
    }

    /// The `LogConfig` of a partition of a topic with `overrides`.
    public func logConfig(overrides: [String: String] = [:]) -> LogConfig {
        func long(_ name: String, _ fallback: Int64) -> Int64 {
            overrides[name].flatMap { Int64($0.trimmingWhitespace()) } ?? fallback
        }
        let timestampType = overrides["message.timestamp.type"] ?? properties["log.message.timestamp.type"]
        return LogConfig(
            segmentBytes: Int(long("segment.bytes", Int64(logSegmentBytes))),
            segmentMs: long("segment.ms", logRollMs),
            indexIntervalBytes: Int(long("index.interval.bytes", Int64(logIndexIntervalBytes))),
            segmentIndexBytes: Int(long("segment.index.bytes", Int64(logIndexSizeMaxBytes))),
            maxMessageBytes: Int(long("max.message.bytes", Int64(messageMaxBytes))),
            retentionMs: long("retention.ms", logRetentionMs),
            retentionBytes: long("retention.bytes", logRetentionBytes),
            flushMessages: long("flush.messages", logFlushIntervalMessages),
            flushMs: long("flush.ms", logFlushIntervalMs ?? Int64.max),
            messageTimestampType: timestampType == "LogAppendTime" ? .logAppendTime : .createTime,
            producerIdExpirationMs: properties["producer.id.expiration.ms"].flatMap { Int64($0.trimmingWhitespace()) }
                ?? 86_400_000)
    }
}
