import Foundation
import KafkaProtocol
import LogEngine
import Logging
import NIOCore
import NIOPosix
import Testing
@testable import PortaskBroker

/// Values from requests and from `__consumer_offsets` at the edges of their types: the coordinator answers or
/// wraps as Kafka does, it never traps, and it keeps working afterwards.
struct GroupArithmeticTests {
    /// A topic manager with topic `t` (2 partitions) in a temporary directory, removed by `cleanup`.
    static func topics() throws -> (TopicManager, cleanup: () -> Void) {
        let config = try TopicTests.temporaryConfig()
        let topics = try TopicManager(config: config, logger: Logger(label: "test"))
        try topics.create(name: "t", partitions: 2)
        return (topics, {
            try? topics.close()
            try? FileManager.default.removeItem(atPath: config.dataDirectory)
        })
    }

    static func commit(
        _ group: String, retention: Int64 = -1, timestamp: Int64 = -1, metadata: String = "", offset: Int64 = 5
    ) -> OffsetCommitRequest {
        OffsetCommitRequest(groupId: group, retentionTimeMs: retention, topics: [
            .init(name: "t", partitions: [
                .init(partitionIndex: 0, committedOffset: offset, commitTimestamp: timestamp, committedMetadata: metadata),
            ]),
        ])
    }

    static func errors(_ response: OffsetCommitResponse) -> [Int16] {
        response.topics.flatMap { $0.partitions.map(\.errorCode) }
    }

    @Test func commit_whenRetentionIsInt64Max_doesNotTrap() async throws {
        let (topics, cleanup) = try Self.topics()
        defer { cleanup() }
        let (coordinator, timers, _) = GroupFixtures.coordinator()
        let handlers = GroupOffsetHandlers(coordinator: coordinator, topics: topics)
        for version: Int16 in 2...4 {
            let response = await handlers.commit(Self.commit("g\(version)", retention: .max), version: version)
            #expect(Self.errors(response) == [0])
            let stored = await coordinator.group("g\(version)")?.committed(nil).first?.1
            // Saturated: the offset is kept for good instead of wrapping into the past.
            #expect(stored?.expireTimestamp == Int64.max && stored?.offset == 5)
        }
        await timers.advance(by: 600_000)
        await coordinator.expireOffsets()
        #expect(await coordinator.group("g2")?.committed(nil).count == 1)
        let after = await handlers.commit(Self.commit("g2", offset: 6), version: 8)
        #expect(Self.errors(after) == [0])
    }

    @Test func commit_whenV1CommitTimestampIsInt64Max_doesNotTrap() async throws {
        let (topics, cleanup) = try Self.topics()
        defer { cleanup() }
        let (coordinator, _, _) = GroupFixtures.coordinator { $0.offsetsRetentionMs = .max }
        let handlers = GroupOffsetHandlers(coordinator: coordinator, topics: topics)
        let response = await handlers.commit(Self.commit("g", timestamp: .max), version: 1)
        #expect(Self.errors(response) == [0])
        let stored = await coordinator.group("g")?.committed(nil).first?.1
        #expect(stored?.commitTimestamp == Int64.max && stored?.expireTimestamp == Int64.max)
        await coordinator.expireOffsets()
        #expect(await coordinator.group("g")?.committed(nil).count == 1)
    }

    @Test func expiry_whenCommitTimestampIsInt64Min_doesNotTrap() async throws {
        let (coordinator, _, _) = GroupFixtures.coordinator()
        await coordinator.restore([
            .offset(group: "old", partition: TopicPartition("t", 0), value: CommittedOffset(offset: 1, commitTimestamp: .min)),
            .offset(group: "new", partition: TopicPartition("t", 0), value: CommittedOffset(offset: 1, commitTimestamp: .max)),
        ])
        await coordinator.expireOffsets()
        #expect(coordinator.group("old") == nil)
        #expect(await coordinator.group("new")?.committed(nil).count == 1)
    }

    @Test func heartbeat_whenGroupEpochIsInt32Max_doesNotTrap() async throws {
        let (topics, cleanup) = try Self.topics()
        defer { cleanup() }
        let (coordinator, _, _) = GroupFixtures.coordinator(topics: topics)
        // A forged (or very old) group: both epochs at Int32.max, as a `__consumer_offsets` record can hold them.
        await coordinator.restore([
            .consumer(.groupEpoch(group: "cg", epoch: .max)), .consumer(.targetEpoch(group: "cg", epoch: .max)),
        ])
        let joined = await coordinator.consumerHeartbeat(groupId: "cg", ConsumerGroupTests.input("a", epoch: 0, owned: []))
        #expect(joined.error == .noError && joined.memberEpoch == 1 && joined.assignment?.count == 2)
        let second = await coordinator.consumerHeartbeat(groupId: "cg", ConsumerGroupTests.input("b", epoch: 0, owned: []))
        #expect(second.error == .noError && second.memberEpoch == 2)
        let snapshot = try #require(await coordinator.consumerGroup("cg")?.snapshot())
        #expect(snapshot.groupEpoch == 2 && snapshot.assignmentEpoch == 2)
    }

    @Test func heartbeat_whenMemberEpochIsInt32Max_isFencedNotTrapped() async throws {
        let (topics, cleanup) = try Self.topics()
        defer { cleanup() }
        let (coordinator, _, _) = GroupFixtures.coordinator(topics: topics)
        _ = await coordinator.consumerHeartbeat(groupId: "cg", ConsumerGroupTests.input("a", epoch: 0, owned: []))
        let forged = await coordinator.consumerHeartbeat(groupId: "cg", ConsumerGroupTests.input("a", epoch: .max))
        #expect(forged.error == .fencedMemberEpoch)
        #expect(await coordinator.consumerHeartbeat(groupId: "cg", ConsumerGroupTests.input("a", epoch: 1)).error == .noError)
    }

    @Test func join_whenGenerationIsInt32Max_wrapsToOne() async throws {
        let (coordinator, _, store) = GroupFixtures.coordinator()
        await coordinator.restore([
            .metadata(group: "g", value: StoredGroup(protocolType: "consumer", generation: .max, protocolName: nil, leader: nil)),
        ])
        let joined = await coordinator.join(groupId: "g", GroupFixtures.join(version: 3))
        #expect(joined.error == .noError && joined.generationId == 1)
        let group = try #require(coordinator.group("g"))
        _ = await group.sync(memberId: joined.memberId, groupInstanceId: nil, generationId: 1, protocolType: nil,
                             protocolName: nil, assignments: [:])
        #expect(await group.state == .stable)
        guard case .metadata(_, let value?) = store.records.withLockedValue({ $0 }).last else {
            Issue.record("no group metadata stored")
            return
        }
        #expect(value.generation == 1)
    }

    @Test func restore_whenStoredTimeoutsAreExtreme_doesNotTrap() async throws {
        let (coordinator, timers, _) = GroupFixtures.coordinator()
        let member = StoredGroup.Member(
            memberId: "m", groupInstanceId: nil, clientId: "c", clientHost: "/h", rebalanceTimeoutMs: .min,
            sessionTimeoutMs: .max, subscription: ByteBuffer(), assignment: ByteBuffer())
        await coordinator.restore([
            .metadata(group: "g", value: StoredGroup(
                protocolType: "consumer", generation: 3, protocolName: "range", leader: "m", stateTimestamp: .min,
                members: [member, member])),
        ])
        let group = try #require(coordinator.group("g"))
        #expect(await group.memberOrder == ["m"])
        #expect(await group.members.count == 1)
        #expect(await group.heartbeat(memberId: "m", groupInstanceId: nil, generationId: 3) == .noError)
        await timers.advance(by: Int64(Int32.max) + 1)
        #expect(await group.state == .empty)
    }

    @Test func eventLoopTimers_whenDelayIsInt64Max_doNotTrap() async throws {
        let loops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let timers = EventLoopGroupTimers(loops: loops)
        let far = timers.schedule(afterMs: .max) {}
        let past = timers.schedule(afterMs: .min) {}
        far.cancel()
        past.cancel()
        try await loops.shutdownGracefully()
    }

    @Test func config_readsBoundsAndExtremeValuesWithoutTrapping() throws {
        let config = try BrokerConfig(properties: [
            "log.dirs": "/tmp/unused", "offsets.retention.minutes": "\(Int32.max)",
            "offsets.topic.num.partitions": "\(Int32.max)", "group.max.size": "3", "group.consumer.max.size": "4",
            "group.max.count": "5",
        ])
        let groups = GroupCoordinatorConfig(config)
        #expect(groups.offsetsRetentionMs == Int64(Int32.max) * 60_000)
        #expect(groups.offsetsTopicPartitions == Int(Int32.max))
        #expect(groups.groupMaxSize == 3 && groups.consumerGroupMaxSize == 4 && groups.groupMaxCount == 5)
        #expect(OffsetsTopic.partition(for: "g", count: Int.max) >= 0)
        let defaults = GroupCoordinatorConfig(try BrokerConfig(properties: ["log.dirs": "/tmp/unused"]))
        #expect(defaults.groupMaxSize == Int(Int32.max) && defaults.consumerGroupMaxSize == Int(Int32.max))
        #expect(defaults.groupMaxCount == 100_000)
    }

    @Test func nextGroupEpoch_wrapsPastInt32MaxAndNegativeToOne() {
        #expect(Int32(0).nextGroupEpoch == 1 && Int32(41).nextGroupEpoch == 42)
        #expect(Int32.max.nextGroupEpoch == 1 && Int32(-2).nextGroupEpoch == 1 && Int32.min.nextGroupEpoch == 1)
        #expect(Int64.max.saturatingAdd(1) == .max && Int64.min.saturatingAdd(-1) == .min)
        #expect(Int64(5).saturatingSubtract(.min) == .max && Int64(-5).saturatingSubtract(.max) == .min)
    }
}
