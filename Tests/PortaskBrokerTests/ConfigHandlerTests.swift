import KafkaProtocol
import Testing
@testable import PortaskBroker

struct ConfigHandlerTests {
    static func describe(
        _ handler: DescribeConfigsHandler, type: Int8, name: String, keys: [String]? = nil, synonyms: Bool = false,
        documentation: Bool = false, version: Int16 = 4
    ) -> DescribeConfigsResponse.DescribeConfigsResult {
        handler.respond(DescribeConfigsRequest(
            resources: [.init(resourceType: type, resourceName: name, configurationKeys: keys)],
            includeSynonyms: synonyms, includeDocumentation: documentation), version: version).results[0]
    }

    static func entries(_ result: DescribeConfigsResponse.DescribeConfigsResult) -> [String: DescribeConfigsResponse.DescribeConfigsResourceResult] {
        Dictionary(result.configs.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    @Test func describeConfigs_topic_showsValuesSourcesAndSynonyms() throws {
        let fixture = try TemporaryTopics(["log.segment.bytes": "2097152"])
        try fixture.manager.create(name: "t", configs: ["retention.ms": "60000"])
        let handler = DescribeConfigsHandler(topics: fixture.manager)
        let result = Self.describe(handler, type: 2, name: "t", synonyms: true, documentation: true)
        #expect(result.errorCode == 0 && result.errorMessage == nil)
        let configs = Self.entries(result)
        let retention = try #require(configs["retention.ms"])
        #expect(retention.value == "60000" && retention.configSource == 1 && !retention.readOnly)
        #expect(retention.synonyms.map(\.name) == ["retention.ms", "log.retention.hours"])
        #expect(retention.synonyms.map(\.source) == [1, 5])
        #expect(retention.configType == 5 && retention.documentation?.isEmpty == false)
        let segment = try #require(configs["segment.bytes"])
        #expect(segment.value == "2097152" && segment.configSource == 4)
        #expect(segment.synonyms.map(\.source) == [4, 5] && segment.synonyms.allSatisfy { $0.name == "log.segment.bytes" })
        #expect(configs["cleanup.policy"]?.configType == 7)
        #expect(configs["max.message.bytes"]?.configSource == 5 && configs["max.message.bytes"]?.value == "1048588")
        for version in DescribeConfigsResponse.validVersions {
            let response = handler.respond(DescribeConfigsRequest(resources: [.init(resourceType: 2, resourceName: "t")],
                                                                  includeSynonyms: version >= 1), version: version)
            try expectEncodes(response, versions: version...version)
        }
    }

    @Test func describeConfigs_versionZeroMarksDefaults_andKeysFilter() throws {
        let fixture = try TemporaryTopics()
        try fixture.manager.create(name: "t", configs: ["retention.ms": "60000"])
        let handler = DescribeConfigsHandler(topics: fixture.manager)
        let configs = Self.entries(Self.describe(handler, type: 2, name: "t", version: 0))
        #expect(configs["retention.ms"]?.isDefault == false && configs["segment.bytes"]?.isDefault == true)
        let filtered = Self.describe(handler, type: 2, name: "t", keys: ["segment.ms", "nope"])
        #expect(filtered.configs.map(\.name) == ["segment.ms"])
        #expect(Self.describe(handler, type: 2, name: "t", keys: []).configs.count == TopicConfigDefinition.all.count)
        #expect(Self.describe(handler, type: 2, name: "t").configs.allSatisfy { $0.synonyms.isEmpty && $0.documentation == nil })
    }

    @Test func describeConfigs_broker_staticAndDefaultSources() throws {
        let fixture = try TemporaryTopics(["log.retention.hours": "48"])
        let handler = DescribeConfigsHandler(topics: fixture.manager)
        let configs = Self.entries(Self.describe(handler, type: 4, name: "0", synonyms: true))
        #expect(configs["log.retention.hours"]?.value == "48" && configs["log.retention.hours"]?.configSource == 4)
        #expect(configs["log.retention.hours"]?.synonyms.map(\.source) == [4, 5])
        #expect(configs["log.retention.ms"]?.value == nil && configs["log.retention.ms"]?.configSource == 5)
        #expect(configs["num.partitions"]?.value == "1" && configs["num.partitions"]?.configSource == 5)
        #expect(configs["log.dirs"]?.configSource == 4)
        #expect(configs.values.allSatisfy { $0.readOnly })
        #expect(configs.values.filter(\.isSensitive).map(\.name).sorted()
            == ["scram.bootstrap.credentials", "ssl.key.password", "ssl.keystore.key", "ssl.truststore.certificates"])
        #expect(Self.describe(handler, type: 4, name: "").configs.isEmpty)
        #expect(Self.describe(handler, type: 4, name: "3").errorCode == KafkaErrorCode.invalidRequest.rawValue)
        #expect(Self.describe(handler, type: 4, name: "x").errorCode == KafkaErrorCode.invalidRequest.rawValue)
        #expect(Self.describe(handler, type: 8, name: "0").errorCode == KafkaErrorCode.invalidRequest.rawValue)
        #expect(Self.describe(handler, type: 2, name: "absent").errorCode == KafkaErrorCode.unknownTopicOrPartition.rawValue)
        #expect(Self.describe(handler, type: 2, name: "bad name").errorCode == KafkaErrorCode.invalidTopicException.rawValue)
    }

    @Test func describeConfigs_broker_neverShowsSensitiveValues() throws {
        let fixture = try TemporaryTopics([
            "ssl.key.password": "key-secret", "scram.bootstrap.credentials": "SCRAM-SHA-256=[name=a,password=a-secret]",
        ])
        let handler = DescribeConfigsHandler(topics: fixture.manager)
        let configs = Self.entries(Self.describe(handler, type: 4, name: "0", synonyms: true))
        for name in ["ssl.key.password", "scram.bootstrap.credentials"] {
            let entry = try #require(configs[name])
            #expect(entry.isSensitive && entry.value == nil && entry.configType == 9 && entry.configSource == 4)
            #expect(entry.synonyms.map(\.source) == [4] && entry.synonyms.allSatisfy { $0.value == nil })
        }
    }

    @Test func alterConfigs_replacesOverridesAndAppliesThemToTheLogs() throws {
        let fixture = try TemporaryTopics()
        try fixture.manager.create(name: "t", partitions: 2, configs: ["retention.ms": "60000", "segment.ms": "1000"])
        let handler = AlterConfigsHandler(alterer: ConfigAlterer(topics: fixture.manager))
        func alter(_ configs: [String: String?], type: Int8 = 2, name: String = "t", validateOnly: Bool = false) -> AlterConfigsResponse.AlterConfigsResourceResponse {
            handler.respond(AlterConfigsRequest(resources: [.init(
                resourceType: type, resourceName: name,
                configs: configs.map { .init(name: $0.key, value: $0.value) })], validateOnly: validateOnly)).responses[0]
        }
        #expect(alter(["max.message.bytes": "5000"], validateOnly: true).errorCode == 0)
        #expect(fixture.manager.topic(named: "t")?.configs == ["retention.ms": "60000", "segment.ms": "1000"])
        let done = alter(["max.message.bytes": "5000"])
        #expect(done.errorCode == 0 && done.errorMessage == nil && done.resourceName == "t" && done.resourceType == 2)
        #expect(fixture.manager.topic(named: "t")?.configs == ["max.message.bytes": "5000"])
        #expect(fixture.manager.partition("t", 1)?.config.maxMessageBytes == 5000)
        #expect(fixture.manager.partition("t", 1)?.config.retentionMs == fixture.manager.config.logRetentionMs)
        let invalid = alter(["retention.ms": "-2"])
        #expect(invalid.errorCode == KafkaErrorCode.invalidConfig.rawValue)
        #expect(invalid.errorMessage == "Invalid value -2 for configuration retention.ms: Value must be at least -1")
        #expect(alter(["unknown.config": "1"]).errorCode == KafkaErrorCode.invalidConfig.rawValue)
        #expect(alter(["retention.ms": "1"], name: "absent").errorCode == KafkaErrorCode.unknownTopicOrPartition.rawValue)
        let brokerChange = alter(["log.retention.ms": "1"], type: 4, name: "0")
        #expect(brokerChange.errorCode == KafkaErrorCode.invalidRequest.rawValue)
        #expect(brokerChange.errorMessage?.contains("Cannot update these configs dynamically: log.retention.ms") == true)
        #expect(fixture.manager.topic(named: "t")?.configs == ["max.message.bytes": "5000"])
        try expectEncodes(handler.respond(AlterConfigsRequest(resources: [])), versions: AlterConfigsResponse.validVersions)
    }

    @Test func incrementalAlterConfigs_setDeleteAppendSubtract() throws {
        let fixture = try TemporaryTopics()
        try fixture.manager.create(name: "t", configs: ["segment.ms": "1000"])
        let handler = IncrementalAlterConfigsHandler(alterer: ConfigAlterer(topics: fixture.manager))
        func alter(_ changes: [(String, Int8, String?)], name: String = "t", type: Int8 = 2) -> IncrementalAlterConfigsResponse.AlterConfigsResourceResponse {
            handler.respond(IncrementalAlterConfigsRequest(resources: [.init(
                resourceType: type, resourceName: name,
                configs: changes.map { .init(name: $0.0, configOperation: $0.1, value: $0.2) })])).responses[0]
        }
        #expect(alter([("retention.ms", 0, "120000"), ("segment.ms", 1, nil), ("cleanup.policy", 2, "compact")]).errorCode == 0)
        #expect(fixture.manager.topic(named: "t")?.configs == ["retention.ms": "120000", "cleanup.policy": "delete,compact"])
        #expect(fixture.manager.partition("t", 0)?.config.retentionMs == 120000)
        #expect(alter([("cleanup.policy", 3, "delete")]).errorCode == 0)
        #expect(fixture.manager.topic(named: "t")?.configs["cleanup.policy"] == "compact")
        let append = alter([("retention.ms", 2, "5")])
        #expect(append.errorCode == KafkaErrorCode.invalidConfig.rawValue)
        #expect(append.errorMessage == "Can't APPEND to key retention.ms because its type is not LIST.")
        let null = alter([("retention.ms", 0, nil)])
        #expect(null.errorCode == KafkaErrorCode.invalidRequest.rawValue && null.errorMessage == "Null value not supported for : retention.ms")
        #expect(alter([("retention.ms", 0, "1"), ("retention.ms", 1, nil)]).errorCode == KafkaErrorCode.invalidRequest.rawValue)
        #expect(alter([("retention.ms", 9, "1")]).errorCode == KafkaErrorCode.invalidRequest.rawValue)
        #expect(alter([("cleanup.policy", 0, "shred")]).errorCode == KafkaErrorCode.invalidConfig.rawValue)
        #expect(alter([("num.partitions", 0, "3")], name: "0", type: 4).errorCode == KafkaErrorCode.invalidRequest.rawValue)
        #expect(alter([], name: "0", type: 4).errorCode == 0)
        #expect(alter([], name: "9", type: 4).errorMessage == "Unexpected broker id, expected 0, but received 9")
        #expect(alter([], name: "t", type: 64).errorMessage == "Unknown resource type 64")
        #expect(alter([], name: "t", type: 32).errorMessage == "Unsupported resource type: 32")
        let twice = handler.respond(IncrementalAlterConfigsRequest(resources: [
            .init(resourceType: 2, resourceName: "t", configs: [.init(name: "retention.ms", configOperation: 0, value: "1")]),
            .init(resourceType: 2, resourceName: "t", configs: [.init(name: "segment.ms", configOperation: 0, value: "1")]),
        ]))
        #expect(twice.responses.map(\.errorMessage) == ["Each resource must appear at most once.", "Each resource must appear at most once."])
        #expect(fixture.manager.topic(named: "t")?.configs == ["retention.ms": "120000", "cleanup.policy": "compact"])
    }

    @Test func incrementalAlterConfigs_concurrentChangesOfOneTopicAreAllKept() async throws {
        let fixture = try TemporaryTopics()
        try fixture.manager.create(name: "t", partitions: 2)
        let handler = IncrementalAlterConfigsHandler(alterer: ConfigAlterer(topics: fixture.manager))
        let changes = ["retention.ms": "1000", "segment.ms": "2000", "flush.ms": "3000", "flush.messages": "4000",
                       "retention.bytes": "5000", "max.message.bytes": "6000", "delete.retention.ms": "7000",
                       "index.interval.bytes": "8000"]
        await withTaskGroup(of: Int16.self) { group in
            for (name, value) in changes {
                group.addTask {
                    handler.respond(IncrementalAlterConfigsRequest(resources: [.init(
                        resourceType: 2, resourceName: "t", configs: [.init(name: name, configOperation: 0, value: value)])]))
                        .responses[0].errorCode
                }
            }
            for await code in group { #expect(code == 0) }
        }
        #expect(fixture.manager.topic(named: "t")?.configs == changes)
        #expect(fixture.manager.partition("t", 1)?.config.maxMessageBytes == 6000)
    }

    @Test func createTopics_acceptsConfigsWithoutEffectYet_andDescribeShowsThemAsTopicConfigs() throws {
        let fixture = try TemporaryTopics()
        let configs = ["min.compaction.lag.ms": "60000", "max.compaction.lag.ms": "86400000",
                       "min.cleanable.dirty.ratio": "0.1", "segment.jitter.ms": "1000",
                       "message.timestamp.before.max.ms": "3600000", "remote.storage.enable": "false"]
        let create = CreateTopicsHandler(topics: fixture.manager)
        let created = create.respond(CreateTopicsRequest(topics: [.init(
            name: "versioned-store-changelog", numPartitions: 1, replicationFactor: 1,
            configs: configs.map { .init(name: $0.key, value: $0.value) })], timeoutMs: 1000)).topics[0]
        #expect(created.errorCode == 0 && created.errorMessage == nil)
        #expect(created.configs?.count == TopicConfigDefinition.all.count)
        #expect(created.configs?.first { $0.name == "min.cleanable.dirty.ratio" }?.configSource == 1)
        #expect(fixture.manager.topic(named: "versioned-store-changelog")?.configs == configs)
        #expect(fixture.manager.topicConfig(named: "versioned-store-changelog")?.minCleanableDirtyRatio == 0.1)

        let handler = DescribeConfigsHandler(topics: fixture.manager)
        let described = Self.entries(Self.describe(handler, type: 2, name: "versioned-store-changelog", synonyms: true,
                                                   documentation: true))
        #expect(described.count == 33)
        for (name, value) in configs {
            #expect(described[name]?.value == value && described[name]?.configSource == 1, "\(name)")
            #expect(described[name]?.synonyms.first?.source == 1)
        }
        #expect(described["min.cleanable.dirty.ratio"]?.configType == 6)
        #expect(described["min.compaction.lag.ms"]?.synonyms.map(\.name) == ["min.compaction.lag.ms", "log.cleaner.min.compaction.lag.ms"])
        #expect(described["segment.jitter.ms"]?.documentation?.hasSuffix("Accepted, no effect yet.") == true)
        #expect(described["retention.ms"]?.documentation?.contains("no effect") == false)
        #expect(described["preallocate"]?.value == "false" && described["preallocate"]?.configSource == 5)
        #expect(described["leader.replication.throttled.replicas"]?.value == "" && described["leader.replication.throttled.replicas"]?.configType == 7)
        let response = handler.respond(DescribeConfigsRequest(resources: [.init(resourceType: 2, resourceName: "versioned-store-changelog")],
                                                              includeSynonyms: true, includeDocumentation: true), version: 4)
        try expectEncodes(response, versions: 4...4)

        let refused = create.respond(CreateTopicsRequest(topics: [
            .init(name: "tiered", numPartitions: 1, replicationFactor: 1, configs: [.init(name: "remote.storage.enable", value: "true")]),
            .init(name: "lagging", numPartitions: 1, replicationFactor: 1, configs: [
                .init(name: "min.compaction.lag.ms", value: "10"), .init(name: "max.compaction.lag.ms", value: "5")]),
        ], timeoutMs: 1000)).topics
        #expect(refused.map(\.errorCode) == [KafkaErrorCode.invalidConfig.rawValue, KafkaErrorCode.invalidConfig.rawValue])
        #expect(refused[1].errorMessage == "conflict topic config setting min.compaction.lag.ms (10) > max.compaction.lag.ms (5)")
    }

    @Test func describeConfigs_brokerLevelTopicConfigsAreStatic() throws {
        let fixture = try TemporaryTopics(["log.cleaner.min.compaction.lag.ms": "1000", "log.retention.minutes": "5"])
        try fixture.manager.create(name: "t")
        let handler = DescribeConfigsHandler(topics: fixture.manager)
        let described = Self.entries(Self.describe(handler, type: 2, name: "t", synonyms: true))
        #expect(described["min.compaction.lag.ms"]?.value == "1000" && described["min.compaction.lag.ms"]?.configSource == 4)
        #expect(described["retention.ms"]?.value == "300000" && described["retention.ms"]?.configSource == 4)
        #expect(described["retention.ms"]?.synonyms.map(\.name) == ["log.retention.minutes", "log.retention.hours"])
        let broker = Self.entries(Self.describe(handler, type: 4, name: "0"))
        #expect(broker["log.cleaner.min.compaction.lag.ms"]?.value == "1000" && broker["log.cleaner.min.compaction.lag.ms"]?.configSource == 4)
        #expect(broker["log.cleaner.min.cleanable.ratio"]?.configType == 6)
    }

    @Test func incrementalAlterConfigs_validatesEveryConfigAsKafka() throws {
        let fixture = try TemporaryTopics()
        try fixture.manager.create(name: "t")
        let handler = IncrementalAlterConfigsHandler(alterer: ConfigAlterer(topics: fixture.manager))
        func alter(_ changes: [(String, Int8, String?)]) -> IncrementalAlterConfigsResponse.AlterConfigsResourceResponse {
            handler.respond(IncrementalAlterConfigsRequest(resources: [.init(
                resourceType: 2, resourceName: "t",
                configs: changes.map { .init(name: $0.0, configOperation: $0.1, value: $0.2) })])).responses[0]
        }
        #expect(alter([("preallocate", 0, "true"), ("leader.replication.throttled.replicas", 0, "*"),
                       ("compression.zstd.level", 0, "10"), ("cleanup.policy", 0, "compact")]).errorCode == 0)
        #expect(fixture.manager.topicConfig(named: "t")?.cleanupPolicy == .compact)
        #expect(fixture.manager.partition("t", 0)?.config.retentionMs == -1)
        #expect(alter([("follower.replication.throttled.replicas", 2, "0:0")]).errorCode == 0)
        #expect(fixture.manager.topic(named: "t")?.configs["follower.replication.throttled.replicas"] == "0:0")
        let ratio = alter([("min.cleanable.dirty.ratio", 0, "2")])
        #expect(ratio.errorCode == KafkaErrorCode.invalidConfig.rawValue)
        #expect(ratio.errorMessage == "Invalid value 2 for configuration min.cleanable.dirty.ratio: Value must be no more than 1")
        let append = alter([("segment.jitter.ms", 2, "5")])
        #expect(append.errorMessage == "Can't APPEND to key segment.jitter.ms because its type is not LIST.")
        #expect(alter([("message.downconversion.enable", 0, "true")]).errorMessage == "Unknown topic config name: message.downconversion.enable")
        #expect(alter([("cleanup.policy", 1, nil)]).errorCode == 0)
        #expect(fixture.manager.partition("t", 0)?.config.retentionMs == fixture.manager.config.logRetentionMs)
    }
}
