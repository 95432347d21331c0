import Foundation
import KafkaProtocol
import LogEngine
import Testing
@testable import PortaskBroker

/// Metadata (key 3) through `MetadataHandler` over a real TopicManager.
struct MetadataHandlerTests {
    static let cluster = ClusterIdentity(nodeId: 7, clusterId: "cluster", advertisedHost: "broker.test", advertisedPort: 9093)

    private func respond(
        _ fixture: TemporaryTopics, _ names: [String]?, allowAutoCreate: Bool = true, version: Int16 = 12
    ) throws -> MetadataResponse {
        let request = MetadataRequest(
            topics: names.map { $0.map { MetadataRequest.MetadataRequestTopic(name: $0) } }, allowAutoTopicCreation: allowAutoCreate)
        return try MetadataHandler(cluster: Self.cluster, topics: fixture.manager).respond(request, version: version)
    }

    private func codes(_ response: MetadataResponse) -> [String: KafkaErrorCode] {
        Dictionary(uniqueKeysWithValues: response.topics.map { ($0.name ?? "", KafkaErrorCode(rawValue: $0.errorCode) ?? .unknownServerError) })
    }

    @Test func describesThisBrokerAsTheOnlyBrokerAndController() throws {
        let fixture = try TemporaryTopics()
        try fixture.manager.create(name: "m", partitions: 3)
        let response = try respond(fixture, ["m"])
        #expect(response.brokers.map(\.nodeId) == [7])
        #expect(response.brokers.first?.host == "broker.test" && response.brokers.first?.port == 9093)
        #expect(response.clusterId == "cluster" && response.controllerId == 7)
        let topic = try #require(response.topics.first)
        #expect(topic.errorCode == 0 && topic.name == "m" && !topic.isInternal)
        #expect(topic.partitions.map(\.partitionIndex) == [0, 1, 2])
        #expect(topic.partitions.allSatisfy { $0.leaderId == 7 && $0.replicaNodes == [7] && $0.isrNodes == [7] })
    }

    @Test func autoCreation_followsTheBrokerAndTheRequest() throws {
        let on = try TemporaryTopics(["auto.create.topics.enable": "true", "num.partitions": "2"])
        let created = try respond(on, ["fresh"])
        #expect(codes(created) == ["fresh": .noError])
        #expect(created.topics.first?.partitions.count == 2)
        #expect(on.manager.topic(named: "fresh")?.partitionCount == 2)

        // The request may decline (version 4+); before version 4 it cannot.
        let declined = try respond(on, ["declined"], allowAutoCreate: false)
        #expect(codes(declined) == ["declined": .unknownTopicOrPartition])
        #expect(on.manager.topic(named: "declined") == nil)
        let old = try respond(on, ["old"], allowAutoCreate: false, version: 3)
        #expect(codes(old) == ["old": .noError])
        #expect(on.manager.topic(named: "old") != nil)

        // A broker with auto-creation off creates nothing, whatever the request says.
        let off = try TemporaryTopics(["auto.create.topics.enable": "false"])
        for version: Int16 in [1, 3, 4, 12] {
            let response = try respond(off, ["absent"], allowAutoCreate: true, version: version)
            #expect(codes(response) == ["absent": .unknownTopicOrPartition], "version \(version)")
        }
        #expect(off.manager.allTopics().isEmpty)
    }

    @Test func unknownAndInvalidNames_areAnsweredPerTopic() throws {
        let fixture = try TemporaryTopics(["auto.create.topics.enable": "true"])
        try fixture.manager.create(name: "known", partitions: 1)
        let response = try respond(fixture, ["known", "bad name", "..", "unknown"], allowAutoCreate: false)
        #expect(codes(response) == [
            "known": .noError, "bad name": .invalidTopicException, "..": .invalidTopicException,
            "unknown": .unknownTopicOrPartition,
        ])
        #expect(response.topics.map(\.name) == ["known", "bad name", "..", "unknown"])
        // An invalid name is never auto-created.
        let creating = try respond(fixture, ["bad name"], allowAutoCreate: true)
        #expect(codes(creating) == ["bad name": .invalidTopicException])
        #expect(fixture.manager.topic(named: "bad name") == nil)
    }

    @Test func topicIds_areAnsweredAndResolved() throws {
        let fixture = try TemporaryTopics()
        let first = try fixture.manager.create(name: "a", partitions: 1)
        let second = try fixture.manager.create(name: "b", partitions: 2)
        #expect(first.id != .zero && first.id != second.id)

        let byName = try respond(fixture, ["a", "b"])
        #expect(byName.topics.map(\.topicId) == [first.id, second.id])

        // Version 12 names topics by id (a null name).
        let unknown = KafkaUUID.random()
        let request = MetadataRequest(topics: [.init(topicId: second.id, name: nil), .init(topicId: unknown, name: nil)])
        let byId = try MetadataHandler(cluster: Self.cluster, topics: fixture.manager).respond(request, version: 12)
        #expect(byId.topics.count == 2)
        #expect(byId.topics[0].errorCode == 0 && byId.topics[0].name == "b" && byId.topics[0].partitions.count == 2)
        #expect(byId.topics[1].errorCode == KafkaErrorCode.unknownTopicId.rawValue)
        #expect(byId.topics[1].topicId == unknown && byId.topics[1].name == nil)
    }

    @Test func nullList_describesEveryTopic_andVersion0EmptyListToo() throws {
        let fixture = try TemporaryTopics()
        try fixture.manager.create(name: "a", partitions: 1)
        try fixture.manager.create(name: "__consumer_offsets", partitions: 1)

        let all = try respond(fixture, nil)
        #expect(Set(all.topics.compactMap(\.name)) == ["a", "__consumer_offsets"])
        #expect(all.topics.first { $0.name == "__consumer_offsets" }?.isInternal == true)
        let version0 = try respond(fixture, [], version: 0)
        #expect(version0.topics.count == 2)
        // From version 1 an empty list asks for no topic.
        #expect(try respond(fixture, [], version: 1).topics.isEmpty)
    }
}
