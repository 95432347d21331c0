import Foundation
import KafkaProtocol
import LogEngine
import Logging
import NIOCore
import NIOPosix
import Testing
@testable import PortaskBroker

/// The versions Kafka 4.2 added to APIs the broker already served: their semantics through the handlers, and
/// answers that encode in the new version.
struct NewestVersionTests {
    private func context(_ key: ApiKey, _ version: Int16) -> RequestContext {
        RequestContext(apiKey: key, apiVersion: version, correlationId: 1, clientId: "cid", clientAddress: "127.0.0.1:5000")
    }

    @Test func produceV13_addressesTopicsById() async throws {
        let fixture = try TemporaryTopics()
        try fixture.manager.create(name: "p", partitions: 1)
        let id = try #require(fixture.manager.topic(named: "p")).id
        let unknown = KafkaUUID.random()
        let request = ProduceRequest(acks: 1, timeoutMs: 1000, topicData: [
            .init(topicId: id, partitionData: [.init(index: 0, records: ProduceHandlerTests.batch(2)), .init(index: 3, records: ProduceHandlerTests.batch())]),
            .init(topicId: unknown, partitionData: [.init(index: 0, records: ProduceHandlerTests.batch())]),
        ])
        let handler = ProduceHandler(topics: fixture.manager)
        let resolved = handler.resolvingTopicIds(request, version: 13)
        let response = try #require(await handler.respond(resolved, context: context(.produce, 13)))
        try expectEncodes(response, versions: 13...13)
        #expect(response.responses.map(\.topicId) == [id, unknown])
        let known = response.responses[0].partitionResponses
        #expect(known[0].errorCode == 0 && known[0].baseOffset == 0)
        #expect(known[1].errorCode == KafkaErrorCode.unknownTopicOrPartition.rawValue)
        #expect(response.responses[1].partitionResponses[0].errorCode == KafkaErrorCode.unknownTopicId.rawValue)
        #expect(fixture.manager.partition("p", 0)?.logEndOffset == 2)
        // Below v13 the id is not looked at: the name is.
        #expect(handler.resolvingTopicIds(request, version: 12).topicData[0].name == "")
    }

    @Test func offsetCommitAndFetchV10_addressTopicsById() async throws {
        let fixture = try TemporaryTopics()
        try fixture.manager.create(name: "t", partitions: 2)
        try fixture.manager.create(name: "u", partitions: 1)
        let tId = try #require(fixture.manager.topic(named: "t")).id
        let uId = try #require(fixture.manager.topic(named: "u")).id
        let unknown = KafkaUUID.random()
        let (coordinator, _, _) = GroupFixtures.coordinator()
        let offsets = GroupOffsetHandlers(coordinator: coordinator, topics: fixture.manager)

        let committed = await offsets.commit(OffsetCommitRequest(groupId: "g", topics: [
            .init(topicId: tId, partitions: [.init(partitionIndex: 1, committedOffset: 7), .init(partitionIndex: 5, committedOffset: 1)]),
            .init(topicId: uId, partitions: [.init(partitionIndex: 0, committedOffset: 4)]),
            .init(topicId: unknown, partitions: [.init(partitionIndex: 0, committedOffset: 1)]),
        ]), version: 10)
        try expectEncodes(committed, versions: 10...10)
        #expect(committed.topics.map(\.topicId) == [tId, uId, unknown])
        #expect(committed.topics.map { $0.partitions.map(\.errorCode) } == [
            [0, KafkaErrorCode.unknownTopicOrPartition.rawValue], [0], [KafkaErrorCode.unknownTopicId.rawValue],
        ])

        let some = await offsets.fetch(OffsetFetchRequest(groups: [.init(groupId: "g", topics: [
            .init(topicId: tId, partitionIndexes: [1, 0]), .init(topicId: unknown, partitionIndexes: [2]),
        ])]), version: 10)
        try expectEncodes(some, versions: 10...10)
        let topics = some.groups[0].topics
        #expect(topics.map(\.topicId) == [tId, unknown])
        #expect(topics[0].partitions.map(\.committedOffset) == [7, -1])
        #expect(topics[1].partitions.map(\.errorCode) == [KafkaErrorCode.unknownTopicId.rawValue])

        // All offsets: by id, and a deleted topic is left out.
        try fixture.manager.delete(name: "u")
        let all = await offsets.fetch(OffsetFetchRequest(groups: [.init(groupId: "g", topics: nil)]), version: 10)
        try expectEncodes(all, versions: 10...10)
        #expect(all.groups[0].topics.map(\.topicId) == [tId])
        #expect(all.groups[0].topics[0].partitions.map(\.committedOffset) == [7])
    }

    @Test func describeGroupsV6_reportsAMissingGroupWithAMessage() async throws {
        let (coordinator, _, _) = GroupFixtures.coordinator()
        let admin = GroupAdminHandlers(coordinator: coordinator)
        let v6 = await admin.describe(DescribeGroupsRequest(groups: ["nope"]), version: 6)
        try expectEncodes(v6, versions: 6...6)
        #expect(v6.groups[0].errorCode == KafkaErrorCode.groupIdNotFound.rawValue)
        #expect(v6.groups[0].errorMessage == "Group nope not found." && v6.groups[0].groupState == "Dead")
        let v5 = await admin.describe(DescribeGroupsRequest(groups: ["nope"]), version: 5)
        #expect(v5.groups[0].errorCode == 0 && v5.groups[0].groupState == "Dead")
    }

    @Test func describeGroupsV6_reportsAConsumerProtocolGroupAsNotClassic() async throws {
        let fixture = try TemporaryTopics()
        try fixture.manager.create(name: "t", partitions: 2)
        let (coordinator, _, _) = GroupFixtures.coordinator(topics: fixture.manager)
        let joined = await coordinator.consumerHeartbeat(groupId: "cg", ConsumerGroupTests.input("a", epoch: 0, owned: []))
        #expect(joined.error == .noError)
        let admin = GroupAdminHandlers(coordinator: coordinator)
        let v6 = await admin.describe(DescribeGroupsRequest(groups: ["cg"]), version: 6)
        try expectEncodes(v6, versions: 6...6)
        #expect(v6.groups[0].errorCode == KafkaErrorCode.groupIdNotFound.rawValue)
        #expect(v6.groups[0].errorMessage == "Group cg is not a classic group." && v6.groups[0].members.isEmpty)
        let v5 = await admin.describe(DescribeGroupsRequest(groups: ["cg"]), version: 5)
        #expect(v5.groups[0].errorCode == 0 && v5.groups[0].groupState == "Dead" && v5.groups[0].members.isEmpty)
    }

    @Test func clusterLogDirsMetadataAndFetch_encodeTheirNewestVersions() async throws {
        let fixture = try TemporaryTopics()
        try fixture.manager.create(name: "f", partitions: 1)
        try fixture.produce("f", count: 3)
        let cluster = ClusterIdentity(clusterId: "c", advertisedHost: "127.0.0.1", advertisedPort: 9092)

        var describe = DescribeClusterRequest()
        describe.includeFencedBrokers = true
        let described = DescribeClusterHandler(cluster: cluster).respond(describe, version: 2)
        try expectEncodes(described, versions: 2...2)
        #expect(described.brokers.count == 1 && described.brokers[0].isFenced == false)

        let dirs = DescribeLogDirsHandler(topics: fixture.manager).respond(DescribeLogDirsRequest(topics: nil))
        try expectEncodes(dirs, versions: 5...5)
        #expect(dirs.results.first?.isCordoned == false)

        let metadata = try MetadataHandler(cluster: cluster, topics: fixture.manager)
            .respond(MetadataRequest(topics: nil), version: 13)
        try expectEncodes(metadata, versions: 13...13)
        #expect(metadata.errorCode == 0 && metadata.topics.map(\.name) == ["f"])

        let id = try #require(fixture.manager.topic(named: "f")).id
        let handler = FetchHandler(
            topics: fixture.manager, waiters: FetchWaiters(timers: MultiThreadedEventLoopGroup.singleton), copyRecords: true)
        var partition = FetchRequest.FetchPartition(partition: 0, fetchOffset: 1, partitionMaxBytes: 1 << 20)
        partition.highWatermark = 99
        let fetched = try await handler.respond(
            FetchRequest(maxWaitMs: 0, topics: [.init(topicId: id, partitions: [partition])]), version: 18)
        #expect(fetched.responses[0].partitions[0].errorCode == 0 && fetched.responses[0].partitions[0].highWatermark == 3)
    }
}
