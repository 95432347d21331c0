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
}
