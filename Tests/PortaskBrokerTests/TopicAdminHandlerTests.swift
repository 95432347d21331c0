import KafkaProtocol
import Testing
@testable import PortaskBroker

struct TopicAdminHandlerTests {
    typealias Creatable = CreateTopicsRequest.CreatableTopic

    static func create(_ topics: [Creatable], validateOnly: Bool = false, on handler: CreateTopicsHandler)
        -> [String: CreateTopicsResponse.CreatableTopicResult]
    {
        let response = handler.respond(CreateTopicsRequest(topics: topics, timeoutMs: 1000, validateOnly: validateOnly))
        return Dictionary(response.topics.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    @Test func createTopics_createsWithConfigsAndAnswersTheV5Fields() throws {
        let fixture = try TemporaryTopics()
        let handler = CreateTopicsHandler(topics: fixture.manager)
        let request = CreateTopicsRequest(topics: [
            Creatable(name: "orders", numPartitions: 3, replicationFactor: 1, configs: [.init(name: "retention.ms", value: "60000")]),
        ], timeoutMs: 1000)
        let response = handler.respond(request)
        let result = try #require(response.topics.first)
        #expect(result.errorCode == 0 && result.errorMessage == nil)
        #expect(result.numPartitions == 3 && result.replicationFactor == 1)
        let topic = try #require(fixture.manager.topic(named: "orders"))
        #expect(result.topicId == topic.id && topic.partitionCount == 3 && topic.configs == ["retention.ms": "60000"])
        let retention = try #require(result.configs?.first { $0.name == "retention.ms" })
        #expect(retention.value == "60000" && retention.configSource == 1)
        #expect(result.configs?.first { $0.name == "segment.bytes" }?.configSource == 5)
        #expect(fixture.manager.partition("orders", 2)?.config.retentionMs == 60000)
        try expectEncodes(response, versions: CreateTopicsResponse.validVersions)
    }

    @Test func createTopics_validateOnly_createsNothing() throws {
        let fixture = try TemporaryTopics()
        let results = Self.create([Creatable(name: "trial", numPartitions: 2, replicationFactor: 1)],
                                  validateOnly: true, on: CreateTopicsHandler(topics: fixture.manager))
        #expect(results["trial"]?.errorCode == 0 && results["trial"]?.numPartitions == 2)
        #expect(fixture.manager.topic(named: "trial") == nil)
    }

    @Test func createTopics_refusesWithKafkasCodes() throws {
        let fixture = try TemporaryTopics()
        try fixture.manager.create(name: "existing")
        try fixture.manager.create(name: "dotted_name")
        let handler = CreateTopicsHandler(topics: fixture.manager)
        let results = Self.create([
            Creatable(name: "existing", numPartitions: 1, replicationFactor: 1),
            Creatable(name: "twice", numPartitions: 1, replicationFactor: 1),
            Creatable(name: "twice", numPartitions: 1, replicationFactor: 1),
            Creatable(name: "bad name", numPartitions: 1, replicationFactor: 1),
            Creatable(name: "dotted.name", numPartitions: 1, replicationFactor: 1),
            Creatable(name: "zero", numPartitions: 0, replicationFactor: 1),
            Creatable(name: "rf3", numPartitions: 1, replicationFactor: 3),
            Creatable(name: "rf0", numPartitions: 1, replicationFactor: 0),
            Creatable(name: "nullconfig", numPartitions: 1, replicationFactor: 1, configs: [.init(name: "retention.ms", value: nil)]),
            Creatable(name: "badconfig", numPartitions: 1, replicationFactor: 1, configs: [.init(name: "segment.ms", value: "0")]),
            Creatable(name: "tinysegment", numPartitions: 1, replicationFactor: 1, configs: [.init(name: "segment.bytes", value: "20")]),
        ], on: handler)
        let codes = results.mapValues { KafkaErrorCode(rawValue: $0.errorCode) }
        #expect(codes["existing"] == .topicAlreadyExists)
        #expect(results["existing"]?.errorMessage == "Topic 'existing' already exists.")
        #expect(codes["twice"] == .invalidRequest)
        let once = handler.respond(CreateTopicsRequest(topics: [
            Creatable(name: "dup", numPartitions: 1, replicationFactor: 1), Creatable(name: "dup", numPartitions: 1, replicationFactor: 1),
            Creatable(name: "__cluster_metadata", numPartitions: 1, replicationFactor: 1),
        ], timeoutMs: 1000))
        #expect(once.topics.map(\.name) == ["dup", "__cluster_metadata"])
        #expect(once.topics.map(\.errorCode) == [KafkaErrorCode.invalidRequest.rawValue, KafkaErrorCode.invalidRequest.rawValue])
        #expect(codes["bad name"] == .invalidTopicException)
        #expect(codes["dotted.name"] == .invalidTopicException)
        #expect(codes["zero"] == .invalidPartitions)
        #expect(codes["rf3"] == .invalidReplicationFactor)
        #expect(codes["rf0"] == .invalidReplicationFactor)
        #expect(codes["nullconfig"] == .invalidConfig)
        #expect(codes["badconfig"] == .invalidConfig)
        #expect(results["badconfig"]?.errorMessage == "Invalid value 0 for configuration segment.ms: Value must be at least 1")
        #expect(codes["tinysegment"] == .invalidConfig)
        #expect(fixture.manager.allTopics().map(\.name) == ["dotted_name", "existing"])
    }

    @Test func createTopics_defaultsAndManualAssignments() throws {
        let fixture = try TemporaryTopics(["num.partitions": "4"])
        let handler = CreateTopicsHandler(topics: fixture.manager)
        let node: [Int32] = [0]
        let results = Self.create([
            Creatable(name: "defaults", numPartitions: -1, replicationFactor: -1),
            Creatable(name: "assigned", numPartitions: -1, replicationFactor: -1,
                      assignments: [.init(partitionIndex: 1, brokerIds: node), .init(partitionIndex: 0, brokerIds: node)]),
            Creatable(name: "elsewhere", numPartitions: -1, replicationFactor: -1, assignments: [.init(partitionIndex: 0, brokerIds: [1])]),
            Creatable(name: "gap", numPartitions: -1, replicationFactor: -1,
                      assignments: [.init(partitionIndex: 0, brokerIds: node), .init(partitionIndex: 2, brokerIds: node)]),
            Creatable(name: "both", numPartitions: 2, replicationFactor: -1, assignments: [.init(partitionIndex: 0, brokerIds: node)]),
        ], on: handler)
        #expect(results["defaults"]?.errorCode == 0 && fixture.manager.topic(named: "defaults")?.partitionCount == 4)
        #expect(results["assigned"]?.errorCode == 0 && fixture.manager.topic(named: "assigned")?.partitionCount == 2)
        #expect(results["elsewhere"]?.errorCode == KafkaErrorCode.invalidReplicaAssignment.rawValue)
        #expect(results["gap"]?.errorCode == KafkaErrorCode.invalidReplicaAssignment.rawValue)
        #expect(results["both"]?.errorCode == KafkaErrorCode.invalidRequest.rawValue)
    }

    @Test func deleteTopics_byNameAndById() throws {
        let fixture = try TemporaryTopics()
        try fixture.manager.create(name: "a")
        let b = try fixture.manager.create(name: "b")
        let handler = DeleteTopicsHandler(topics: fixture.manager)
        let byName = handler.respond(DeleteTopicsRequest(topicNames: ["a", "absent"], timeoutMs: 1000), version: 5)
        #expect(byName.responses.map(\.errorCode) == [0, KafkaErrorCode.unknownTopicOrPartition.rawValue])
        try expectEncodes(byName, versions: 0...5)
        let byId = handler.respond(DeleteTopicsRequest(topics: [
            .init(name: nil, topicId: b.id), .init(name: nil, topicId: .random()), .init(name: "x", topicId: .random()),
        ], timeoutMs: 1000), version: 6)
        #expect(byId.responses.map(\.errorCode) == [0, KafkaErrorCode.unknownTopicId.rawValue, KafkaErrorCode.invalidRequest.rawValue])
        #expect(byId.responses[0].name == "b" && byId.responses[0].topicId == b.id)
        try expectEncodes(byId, versions: 6...6)
        let c = try fixture.manager.create(name: "c")
        let named = handler.respond(DeleteTopicsRequest(topics: [.init(name: "c", topicId: .zero)], timeoutMs: 1000), version: 6)
        #expect(named.responses.map(\.errorCode) == [0] && named.responses[0].topicId == c.id)
        #expect(fixture.manager.allTopics().isEmpty)
        #expect(fixture.manager.partition("b", 0) == nil)
    }

    @Test func createPartitions_growsOnlyAndChecksAssignments() throws {
        let fixture = try TemporaryTopics()
        try fixture.manager.create(name: "t", partitions: 2)
        let handler = CreatePartitionsHandler(topics: fixture.manager)
        func grow(_ count: Int32, _ assignments: [[Int32]]? = nil, validateOnly: Bool = false) -> CreatePartitionsResponse.CreatePartitionsTopicResult {
            handler.respond(CreatePartitionsRequest(
                topics: [.init(name: "t", count: count, assignments: assignments?.map { .init(brokerIds: $0) })],
                timeoutMs: 1000, validateOnly: validateOnly)).results[0]
        }
        #expect(grow(2).errorMessage == "Topic already has 2 partition(s).")
        #expect(grow(1).errorMessage == "The topic t currently has 2 partition(s); 1 would not be an increase.")
        #expect(grow(1).errorCode == KafkaErrorCode.invalidPartitions.rawValue)
        #expect(grow(4, [[0]]).errorCode == KafkaErrorCode.invalidReplicaAssignment.rawValue)
        #expect(grow(3, [[2]]).errorCode == KafkaErrorCode.invalidReplicaAssignment.rawValue)
        #expect(grow(5, validateOnly: true).errorCode == 0)
        #expect(fixture.manager.topic(named: "t")?.partitionCount == 2)
        #expect(grow(3, [[0]]).errorCode == 0)
        #expect(grow(5).errorCode == 0)
        #expect(fixture.manager.topic(named: "t")?.partitionCount == 5 && fixture.manager.partition("t", 4) != nil)
        let unknown = handler.respond(CreatePartitionsRequest(topics: [.init(name: "u", count: 3)], timeoutMs: 1000))
        #expect(unknown.results[0].errorCode == KafkaErrorCode.unknownTopicOrPartition.rawValue)
    }

    @Test func deleteRecords_movesTheLogStartOffset() throws {
        let fixture = try TemporaryTopics()
        try fixture.manager.create(name: "t")
        try fixture.manager.create(name: "compacted", configs: ["cleanup.policy": "compact"])
        try fixture.produce("t", count: 10)
        let handler = DeleteRecordsHandler(topics: fixture.manager)
        func delete(_ topic: String, _ partition: Int32, _ offset: Int64) -> DeleteRecordsResponse.DeleteRecordsPartitionResult {
            handler.respond(DeleteRecordsRequest(topics: [.init(name: topic, partitions: [.init(partitionIndex: partition, offset: offset)])], timeoutMs: 1000))
                .topics[0].partitions[0]
        }
        let first = delete("t", 0, 4)
        #expect(first.errorCode == 0 && first.lowWatermark == 4)
        #expect(fixture.manager.partition("t", 0)?.logStartOffset == 4)
        #expect(delete("t", 0, 11).errorCode == KafkaErrorCode.offsetOutOfRange.rawValue)
        #expect(delete("t", 0, -7).errorCode == KafkaErrorCode.offsetOutOfRange.rawValue)
        #expect(delete("t", 0, -1).lowWatermark == 10)
        #expect(delete("t", 1, 0).errorCode == KafkaErrorCode.unknownTopicOrPartition.rawValue)
        #expect(delete("compacted", 0, 0).errorCode == KafkaErrorCode.policyViolation.rawValue)
    }

    @Test func offsetForLeaderEpoch_answersTheLogEndOffset() throws {
        let fixture = try TemporaryTopics()
        try fixture.manager.create(name: "t")
        try fixture.produce("t", count: 3)
        let handler = OffsetForLeaderEpochHandler(topics: fixture.manager)
        func ask(_ partition: Int32, current: Int32 = -1, epoch: Int32) -> OffsetForLeaderEpochResponse.EpochEndOffset {
            handler.respond(OffsetForLeaderEpochRequest(topics: [.init(topic: "t", partitions: [
                .init(partition: partition, currentLeaderEpoch: current, leaderEpoch: epoch),
            ])])).topics[0].partitions[0]
        }
        let zero = ask(0, current: 0, epoch: 0)
        #expect(zero.errorCode == 0 && zero.leaderEpoch == 0 && zero.endOffset == 3)
        #expect(ask(0, epoch: -1).endOffset == -1)
        #expect(ask(0, current: 1, epoch: 0).errorCode == KafkaErrorCode.unknownLeaderEpoch.rawValue)
        #expect(ask(1, epoch: 0).errorCode == KafkaErrorCode.unknownTopicOrPartition.rawValue)
        try expectEncodes(handler.respond(OffsetForLeaderEpochRequest(topics: [.init(topic: "t", partitions: [.init(partition: 0, leaderEpoch: 0)])])),
                          versions: OffsetForLeaderEpochResponse.validVersions)
    }

    @Test func describeLogDirs_reportsPartitionSizesAndSpace() throws {
        let fixture = try TemporaryTopics()
        try fixture.manager.create(name: "t", partitions: 2)
        try fixture.produce("t", 1, count: 2)
        let handler = DescribeLogDirsHandler(topics: fixture.manager)
        let all = handler.respond(DescribeLogDirsRequest(topics: nil))
        let directory = try #require(all.results.first)
        #expect(directory.logDir.hasSuffix(fixture.manager.config.dataDirectory.split(separator: "/").last.map(String.init) ?? "?"))
        #expect(directory.totalBytes > 0 && directory.usableBytes >= 0)
        let sizes = Dictionary(uniqueKeysWithValues: (directory.topics.first?.partitions ?? []).map { ($0.partitionIndex, $0.partitionSize) })
        #expect(sizes[0] == 0 && (sizes[1] ?? 0) > 0)
        let some = handler.respond(DescribeLogDirsRequest(topics: [.init(topic: "t", partitions: [1, 7]), .init(topic: "absent", partitions: [0])]))
        #expect(some.results[0].topics.map(\.name) == ["t"] && some.results[0].topics[0].partitions.map(\.partitionIndex) == [1])
        try expectEncodes(all, versions: DescribeLogDirsResponse.validVersions)
    }

    @Test func describeCluster_answersThisBrokerAndChecksTheEndpointType() throws {
        let cluster = ClusterIdentity(nodeId: 0, clusterId: "c", advertisedHost: "127.0.0.1", advertisedPort: 9092)
        let handler = DescribeClusterHandler(cluster: cluster)
        let response = handler.respond(DescribeClusterRequest(includeClusterAuthorizedOperations: true), version: 1)
        #expect(response.errorCode == 0 && response.clusterId == "c" && response.controllerId == 0)
        #expect(response.brokers.map(\.port) == [9092])
        #expect(response.clusterAuthorizedOperations == 8096)
        try expectEncodes(response, versions: 0...1)
        let controller = handler.respond(DescribeClusterRequest(endpointType: 2), version: 1)
        #expect(controller.errorCode == KafkaErrorCode.mismatchedEndpointType.rawValue)
        #expect(handler.respond(DescribeClusterRequest(endpointType: 9), version: 1).errorCode == KafkaErrorCode.unsupportedEndpointType.rawValue)
    }
}
