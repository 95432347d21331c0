import Foundation
import KafkaProtocol
import Logging
import NIOCore
import Testing
@testable import PortaskBroker

struct ShareGroupRecordTests {
    @Test func shareGroupRecords_useKafkaKeyVersionsAndFlexibleValues() throws {
        let epoch = GroupRecord.share(.groupEpoch(group: "g", epoch: 5))
        #expect(Array(try epoch.key().readableBytesView) == [0, 11, 0, 1, 0x67])
        #expect(Array(try #require(try epoch.value()).readableBytesView) == [0, 0, 0, 0, 0, 5, 0])
        let member = GroupRecord.share(.member(group: "g", memberId: "m", .init(
            rackId: nil, clientId: "c", clientHost: "/h", subscribedTopicNames: ["t"])))
        #expect(Array(try member.key().readableBytesView) == [0, 10, 0, 1, 0x67, 0, 1, 0x6D])
        // version 0, null rack, "c", "/h", ["t"], no tags
        #expect(Array(try #require(try member.value()).readableBytesView) ==
            [0, 0, 0, 2, 0x63, 3, 0x2F, 0x68, 2, 2, 0x74, 0])
        let current = GroupRecord.share(.current(group: "g", memberId: "m", .init(
            memberEpoch: 4, previousMemberEpoch: 3, state: 1,
            assigned: [.init(topicId: KafkaUUID(high: 7, low: 8), partitions: [0, 1])])))
        #expect(Array(try current.key().readableBytesView).prefix(2) == [0, 14])
        let target = GroupRecord.share(.target(group: "g", memberId: "m", [
            .init(topicId: KafkaUUID(high: 1, low: 2), partitions: [3]),
        ]))
        #expect(Array(try target.key().readableBytesView).prefix(2) == [0, 13])
        let targetEpoch = GroupRecord.share(.targetEpoch(group: "g", epoch: 5))
        #expect(Array(try targetEpoch.key().readableBytesView).prefix(2) == [0, 12])
        for record in [epoch, member, current, target, targetEpoch] {
            #expect(try GroupRecord(key: record.key(), value: record.value()) == record)
        }
        let tombstone = GroupRecord.share(.current(group: "g", memberId: "m", nil))
        #expect(try GroupRecord(key: tombstone.key(), value: nil) == tombstone)
    }

    @Test func shareGroup_writesItsMembershipAndComesBackFromTheRecords() async throws {
        let config = try TopicTests.temporaryConfig()
        defer { try? FileManager.default.removeItem(atPath: config.dataDirectory) }
        let topics = try TopicManager(config: config, logger: Logger(label: "test"))
        try topics.create(name: "t", partitions: 2)
        let (coordinator, _, store) = GroupFixtures.coordinator(topics: topics)
        let join = await coordinator.shareHeartbeat(groupId: "sg", Self.input("a", epoch: 0, topics: ["t"]))
        #expect(join.error == .noError && join.assignment?.count == 2)
        _ = await coordinator.shareHeartbeat(groupId: "sg", Self.input("b", epoch: 0, topics: ["t"]))
        let written = store.records.withLockedValue { $0 }
        #expect(written.allSatisfy { if case .share = $0 { return true } else { return false } })
        #expect(written.contains(.share(.member(group: "sg", memberId: "b", .init(
            rackId: nil, clientId: "client", clientHost: "/127.0.0.1", subscribedTopicNames: ["t"])))))

        // A second coordinator replaying what was written has the same group, members and epochs.
        let (restarted, _, _) = GroupFixtures.coordinator(topics: topics)
        await restarted.restore(written)
        let before = try #require(await coordinator.shareGroup("sg")?.snapshot())
        let after = try #require(await restarted.shareGroup("sg")?.snapshot())
        #expect(after.members.map(\.memberId) == ["a", "b"])
        #expect(after.groupEpoch == before.groupEpoch && after.assignmentEpoch == before.assignmentEpoch)
        #expect(after.members.map(\.memberEpoch) == before.members.map(\.memberEpoch))
        #expect(after.members.map(\.assigned) == before.members.map(\.assigned))
        // The restored member goes on heartbeating with its epoch.
        let epochB = try #require(after.members.last?.memberEpoch)
        #expect(await restarted.shareHeartbeat(groupId: "sg", Self.input("b", epoch: epochB, topics: nil)).error == .noError)

        // A member leaving writes tombstones for its records; deleting the empty group tombstones the rest.
        let epochA = try #require(after.members.first?.memberEpoch)
        _ = await coordinator.shareHeartbeat(groupId: "sg", Self.input("a", epoch: epochA, topics: nil))
        #expect(await coordinator.shareHeartbeat(groupId: "sg", Self.input("a", epoch: -1, topics: nil)).error == .noError)
        #expect(store.records.withLockedValue { $0 }.contains(.share(.member(group: "sg", memberId: "a", nil))))
        #expect(await coordinator.shareHeartbeat(groupId: "sg", Self.input("b", epoch: -1, topics: nil)).error == .noError)
        #expect(await coordinator.deleteGroup("sg") == .noError)
        let (third, _, _) = GroupFixtures.coordinator(topics: topics)
        await third.restore(store.records.withLockedValue { $0 })
        #expect(third.shareGroup("sg") == nil)
    }

    static func input(_ memberId: String, epoch: Int32, topics: [String]?) -> ShareHeartbeatInput {
        ShareHeartbeatInput(
            memberId: memberId, memberEpoch: epoch, rackId: nil, subscribedTopicNames: topics, clientId: "client",
            clientHost: "/127.0.0.1")
    }
}
