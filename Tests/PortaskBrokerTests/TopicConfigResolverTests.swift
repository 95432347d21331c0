import LogEngine
import Testing
@testable import PortaskBroker

struct TopicConfigResolverTests {
    static let kafkaTopicConfigs: Set<String> = [
        "cleanup.policy", "compression.gzip.level", "compression.lz4.level", "compression.type", "compression.zstd.level",
        "delete.retention.ms", "file.delete.delay.ms", "flush.messages", "flush.ms",
        "follower.replication.throttled.replicas", "index.interval.bytes", "leader.replication.throttled.replicas",
        "local.retention.bytes", "local.retention.ms", "max.compaction.lag.ms", "max.message.bytes",
        "message.timestamp.after.max.ms", "message.timestamp.before.max.ms", "message.timestamp.type",
        "min.cleanable.dirty.ratio", "min.compaction.lag.ms", "min.insync.replicas", "preallocate",
        "remote.log.copy.disable", "remote.log.delete.on.disable", "remote.storage.enable", "retention.bytes",
        "retention.ms", "segment.bytes", "segment.index.bytes", "segment.jitter.ms", "segment.ms",
        "unclean.leader.election.enable",
    ]

    static func resolver(_ properties: [String: String] = [:]) throws -> TopicConfigResolver {
        try TopicConfigResolver(properties: properties)
    }

    static func problem(_ name: String, _ value: String) -> String? {
        TopicConfigDefinition.validate(name: name, value: value)
    }

    @Test func table_holdsEveryKafka4TopicConfig_withValidDefaults() throws {
        #expect(Set(TopicConfigDefinition.all.map(\.name)) == Self.kafkaTopicConfigs)
        #expect(TopicConfigDefinition.all.count == 33)
        #expect(TopicConfigDefinition.all.map(\.name) == TopicConfigDefinition.all.map(\.name).sorted())
        for definition in TopicConfigDefinition.all {
            #expect(definition.problem(with: definition.defaultValue) == nil, "\(definition.name)")
            #expect(!definition.documentation.isEmpty)
            for synonym in definition.brokerSynonyms {
                #expect(BrokerConfigDefinition.byName[synonym.name] != nil, "\(synonym.name) is a broker property")
            }
        }
        #expect(try Self.resolver().brokerDefaults == TopicConfig())
    }

    @Test func validate_typesWithKafkasMessages() {
        #expect(Self.problem("nope", "1") == "Unknown topic config name: nope")
        #expect(Self.problem("segment.bytes", "big") == "Invalid value big for configuration segment.bytes: Not a number of type INT")
        #expect(Self.problem("segment.bytes", "4294967296") != nil)
        #expect(Self.problem("retention.ms", "soon") == "Invalid value soon for configuration retention.ms: Not a number of type LONG")
        #expect(Self.problem("min.cleanable.dirty.ratio", "half")
            == "Invalid value half for configuration min.cleanable.dirty.ratio: Not a number of type DOUBLE")
        #expect(Self.problem("preallocate", "yes")
            == "Invalid value yes for configuration preallocate: Expected value to be either true or false")
        #expect(Self.problem("preallocate", " TRUE ") == nil && Self.problem("remote.log.copy.disable", "false") == nil)
        #expect(Self.problem("compression.type", "brotli")
            == "Invalid value brotli for configuration compression.type: String must be one of: uncompressed, zstd, lz4, snappy, gzip, producer")
        #expect(Self.problem("message.timestamp.type", "Now")
            == "Invalid value Now for configuration message.timestamp.type: String must be one of: CreateTime, LogAppendTime")
        #expect(Self.problem("cleanup.policy", "compact, shred")
            == "Invalid value shred for configuration cleanup.policy: String must be one of: compact, delete")
        #expect(Self.problem("cleanup.policy", "compact,delete") == nil && Self.problem("cleanup.policy", "") == nil)
    }

    @Test func validate_boundsAsKafkasValidators() {
        #expect(Self.problem("segment.bytes", "1048575")
            == "Invalid value 1048575 for configuration segment.bytes: Value must be at least 1048576")
        #expect(Self.problem("segment.bytes", "1048576") == nil)
        #expect(Self.problem("min.cleanable.dirty.ratio", "1.5")
            == "Invalid value 1.5 for configuration min.cleanable.dirty.ratio: Value must be no more than 1")
        #expect(Self.problem("min.cleanable.dirty.ratio", "-0.1")
            == "Invalid value -0.1 for configuration min.cleanable.dirty.ratio: Value must be at least 0")
        #expect(Self.problem("min.cleanable.dirty.ratio", "0") == nil && Self.problem("min.cleanable.dirty.ratio", "1") == nil)
        for (level, valid) in [("-1", true), ("0", false), ("1", true), ("9", true), ("10", false), ("-2", false)] {
            let problem = Self.problem("compression.gzip.level", level)
            #expect((problem == nil) == valid, "gzip \(level)")
            if !valid {
                #expect(problem == "Invalid value \(level) for configuration compression.gzip.level: Value must be between 1 and 9 or equal to -1")
            }
        }
        #expect(Self.problem("compression.lz4.level", "18")
            == "Invalid value 18 for configuration compression.lz4.level: Value must be no more than 17")
        #expect(Self.problem("compression.lz4.level", "0")
            == "Invalid value 0 for configuration compression.lz4.level: Value must be at least 1")
        #expect(Self.problem("compression.zstd.level", "-131072") == nil && Self.problem("compression.zstd.level", "22") == nil)
        #expect(Self.problem("compression.zstd.level", "23") != nil && Self.problem("compression.zstd.level", "-131073") != nil)
        #expect(Self.problem("local.retention.ms", "-2") == nil && Self.problem("local.retention.ms", "-3") != nil)
        #expect(Self.problem("max.compaction.lag.ms", "0")
            == "Invalid value 0 for configuration max.compaction.lag.ms: Value must be at least 1")
        #expect(Self.problem("min.insync.replicas", "0") != nil && Self.problem("retention.bytes", "-5") == nil)
        #expect(Self.problem("leader.replication.throttled.replicas", "*") == nil)
        #expect(Self.problem("follower.replication.throttled.replicas", "0:0, 1:0") == nil)
        #expect(Self.problem("leader.replication.throttled.replicas", "0:x")
            == "Invalid value [0:x] for configuration leader.replication.throttled.replicas: leader.replication.throttled.replicas "
                + "must be the literal '*' or a list of replicas in the following format: [partitionId]:[brokerId],[partitionId]:[brokerId],...")
    }

    @Test func resolve_topicOverrideThenBrokerPropertyThenDefault() throws {
        let resolver = try Self.resolver([
            "log.retention.minutes": "2", "log.cleaner.min.compaction.lag.ms": "5", "log.roll.jitter.hours": "1",
            "compression.type": "lz4", "log.cleanup.policy": "compact", "min.insync.replicas": "2",
        ])
        let values = Dictionary(resolver.values(overrides: ["min.compaction.lag.ms": "7"]).map { ($0.name, $0) },
                                uniquingKeysWith: { first, _ in first })
        #expect(values.count == 33)
        #expect(values["retention.ms"] == .init(name: "retention.ms", value: "120000", source: .staticBroker))
        #expect(values["segment.jitter.ms"]?.value == "3600000" && values["segment.jitter.ms"]?.source == .staticBroker)
        #expect(values["min.compaction.lag.ms"] == .init(name: "min.compaction.lag.ms", value: "7", source: .topic))
        #expect(values["segment.ms"] == .init(name: "segment.ms", value: "604800000", source: .defaultValue))
        #expect(values["message.timestamp.after.max.ms"]?.value == "3600000")
        #expect(values["remote.storage.enable"] == .init(name: "remote.storage.enable", value: "false", source: .defaultValue))

        let broker = resolver.resolve([:])
        #expect(broker.retentionMs == 120_000 && broker.minCompactionLagMs == 5 && broker.segmentJitterMs == 3_600_000)
        #expect(broker.compressionType == .lz4 && broker.compressionType.codec == .lz4)
        #expect(broker.cleanupPolicy == .compact && broker.minInsyncReplicas == 2)
        let topic = resolver.resolve(["retention.ms": "1000", "cleanup.policy": "delete,compact", "compression.type": "producer",
                                      "min.cleanable.dirty.ratio": "0.25", "preallocate": "true"])
        #expect(topic.retentionMs == 1000 && topic.cleanupPolicy == [.delete, .compact])
        #expect(topic.compressionType.codec == nil && topic.minCleanableDirtyRatio == 0.25 && topic.preallocate)
        // The most specific broker property wins, as in Kafka.
        #expect(try Self.resolver(["log.retention.ms": "5", "log.retention.hours": "1"]).resolve([:]).retentionMs == 5)
        #expect(try Self.resolver(["log.roll.hours": "2"]).resolve([:]).segmentMs == 7_200_000)
    }

    @Test func resolve_storedValuesThatNoLongerParseFallBack() throws {
        let config = try Self.resolver(["log.retention.bytes": "100"]).resolve(["retention.bytes": "lots", "unknown": "1"])
        #expect(config.retentionBytes == 100)
    }

    @Test func problem_checksAcrossConfigsWithTheBrokerLevel() throws {
        let resolver = try Self.resolver(["log.cleaner.max.compaction.lag.ms": "1000"])
        #expect(resolver.problem(with: ["min.compaction.lag.ms": "2000"])
            == "conflict topic config setting min.compaction.lag.ms (2000) > max.compaction.lag.ms (1000)")
        #expect(resolver.problem(with: ["min.compaction.lag.ms": "2000", "max.compaction.lag.ms": "3000"]) == nil)
        #expect(resolver.problem(with: ["remote.storage.enable": "true"])
            == "Tiered Storage functionality is disabled in the broker. Topic cannot be configured with remote log storage.")
        #expect(resolver.problem(with: ["remote.storage.enable": "false", "remote.log.delete.on.disable": "true"]) == nil)
        #expect(resolver.problem(with: ["segment.ms": "0"]) == "Invalid value 0 for configuration segment.ms: Value must be at least 1")
    }

    @Test func brokerConfig_refusesInvalidBrokerSynonymsWithTheirName() {
        #expect(throws: BrokerError(.configuration,
            "Invalid value 2 for configuration log.cleaner.min.cleanable.ratio: Value must be no more than 1")) {
            _ = try TopicConfigResolver(properties: ["log.cleaner.min.cleanable.ratio": "2"])
        }
        #expect(throws: BrokerError.self) { _ = try TopicConfigResolver(properties: ["log.cleanup.policy": "shred"]) }
        #expect(throws: BrokerError.self) {
            _ = try TopicConfigResolver(properties: ["log.message.timestamp.type": "Now"])
        }
    }

    @Test func logConfig_derivedFromTheTypedConfig() throws {
        let config = try TopicTests.temporaryConfig(["producer.id.expiration.ms": "1234", "log.retention.bytes": "999"])
        let deleting = config.logConfig(overrides: ["retention.ms": "60000", "message.timestamp.type": "LogAppendTime",
                                                    "segment.bytes": "2097152", "flush.messages": "10"])
        #expect(deleting.retentionMs == 60_000 && deleting.retentionBytes == 999 && deleting.segmentBytes == 2_097_152)
        #expect(deleting.messageTimestampType == .logAppendTime && deleting.flushMessages == 10)
        #expect(deleting.producerIdExpirationMs == 1234)
        // A compacted-only topic is not cut by time or size, as in Kafka.
        let compacted = config.logConfig(overrides: ["cleanup.policy": "compact", "retention.ms": "60000"])
        #expect(compacted.retentionMs == -1 && compacted.retentionBytes == -1)
        #expect(config.logConfig(overrides: ["cleanup.policy": "compact,delete"]).retentionBytes == 999)
    }
}
