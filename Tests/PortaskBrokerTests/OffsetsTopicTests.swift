import Foundation
import LogEngine
import Logging
import NIOCore
import Testing
@testable import PortaskBroker

struct OffsetsTopicTests {
    @Test func commitsAndGroupsSurviveReopeningTheDataDirectory() async throws {
        let config = try TopicTests.temporaryConfig(["offsets.topic.num.partitions": "4"])
        defer { try? FileManager.default.removeItem(atPath: config.dataDirectory) }
        let timers = ManualTimers()
        do {
            let topics = try TopicManager(config: config, logger: Logger(label: "test"))
            try topics.create(name: "t", partitions: 2)
            let store = OffsetsTopic(topics: topics, partitions: 4, clock: { timers.nowMs() })
            let coordinator = GroupCoordinator(
                config: GroupCoordinatorConfig(config), timers: timers, store: store, offsetsTopic: store,
                topics: topics, logger: Logger(label: "test"))
            try coordinator.ensureOffsetsTopic()
            #expect(topics.topic(named: "__consumer_offsets")?.partitionCount == 4)
            let group = coordinator.groupCreatingIfMissing("g")
            let commit = CommittedOffset(offset: 42, leaderEpoch: 1, metadata: "meta", commitTimestamp: 5)
            #expect(await group.commit(memberId: "", groupInstanceId: nil, generationId: -1,
                                       offsets: [TopicPartition("t", 1): commit, TopicPartition("t", 0): commit]) == .noError)
            _ = await group.deleteOffsets([TopicPartition("t", 0)])
            _ = coordinator.groupCreatingIfMissing("gone")
            #expect(await coordinator.deleteGroup("gone") == .noError)
            let index = OffsetsTopic.partition(for: "g", count: 4)
            #expect((topics.partition("__consumer_offsets", index)?.logEndOffset ?? 0) >= 2)
            try topics.close()
        }
        let topics = try TopicManager(config: config, logger: Logger(label: "test"))
        defer { try? topics.close() }
        let store = OffsetsTopic(topics: topics, partitions: 50, clock: { timers.nowMs() })
        #expect(store.partitions == 4)
        let coordinator = GroupCoordinator(
            config: GroupCoordinatorConfig(config), timers: timers, store: store, offsetsTopic: store, topics: topics,
            logger: Logger(label: "test"))
        await coordinator.start()
        await coordinator.stop()
        let group = try #require(coordinator.group("g"))
        let restored = await group.committed(nil)
        #expect(restored.map(\.0) == [TopicPartition("t", 1)])
        #expect(restored.first?.1 == CommittedOffset(offset: 42, leaderEpoch: 1, metadata: "meta", commitTimestamp: 5))
        #expect(coordinator.group("gone") == nil)
    }

    @Test func consumerProtocolGroupsSurviveReopeningTheDataDirectory() async throws {
        let config = try TopicTests.temporaryConfig(["offsets.topic.num.partitions": "2"])
        defer { try? FileManager.default.removeItem(atPath: config.dataDirectory) }
        let timers = ManualTimers()
        var before: ConsumerGroupSnapshot?
        do {
            let topics = try TopicManager(config: config, logger: Logger(label: "test"))
            try topics.create(name: "t", partitions: 4)
            let store = OffsetsTopic(topics: topics, partitions: 2, clock: { timers.nowMs() })
            let coordinator = GroupCoordinator(
                config: GroupCoordinatorConfig(config), timers: timers, store: store, offsetsTopic: store,
                topics: topics, logger: Logger(label: "test"))
            var a = ConsumerGroupTests.input("a", epoch: 0, owned: [])
            a.instanceId = "i-a"
            _ = await coordinator.consumerHeartbeat(groupId: "cg", a)
            _ = await coordinator.consumerHeartbeat(groupId: "cg", ConsumerGroupTests.input("b", epoch: 0, owned: []))
            let revoke = await coordinator.consumerHeartbeat(groupId: "cg", ConsumerGroupTests.input("a", epoch: 1, topics: nil))
            #expect(revoke.assignment?.count == 2)
            _ = await coordinator.consumerHeartbeat(groupId: "gone", ConsumerGroupTests.input("x", epoch: 0, owned: []))
            _ = await coordinator.consumerHeartbeat(groupId: "gone", ConsumerGroupTests.input("x", epoch: -1))
            #expect(await coordinator.deleteGroup("gone") == .noError)
            before = await coordinator.consumerGroup("cg")?.snapshot()
            await coordinator.stop()
            try topics.close()
        }
        let topics = try TopicManager(config: config, logger: Logger(label: "test"))
        defer { try? topics.close() }
        let store = OffsetsTopic(topics: topics, partitions: 2, clock: { timers.nowMs() })
        let coordinator = GroupCoordinator(
            config: GroupCoordinatorConfig(config), timers: timers, store: store, offsetsTopic: store, topics: topics,
            logger: Logger(label: "test"))
        await coordinator.start()
        let after = try #require(await coordinator.consumerGroup("cg")?.snapshot())
        #expect(after.groupEpoch == before?.groupEpoch && after.assignmentEpoch == before?.assignmentEpoch)
        #expect(after.members.map(\.memberId) == ["a", "b"] && after.members.first?.instanceId == "i-a")
        #expect(after.members.map(\.assigned) == before?.members.map(\.assigned))
        #expect(after.members.map(\.target) == before?.members.map(\.target))
        #expect(after.members.map(\.memberEpoch) == before?.members.map(\.memberEpoch))
        #expect(coordinator.consumerGroup("gone") == nil)
        // The member carries on where it was: its revocation completes against the restored state.
        let done = await coordinator.consumerHeartbeat(
            groupId: "cg", ConsumerGroupTests.input("a", epoch: 1, owned: revoke(after), topics: nil))
        #expect(done.error == .noError && done.memberEpoch == 2)
        await coordinator.stop()
    }

    private func revoke(_ snapshot: ConsumerGroupSnapshot) -> Set<TopicPartition> {
        snapshot.members.first { $0.memberId == "a" }?.assigned ?? []
    }
}
