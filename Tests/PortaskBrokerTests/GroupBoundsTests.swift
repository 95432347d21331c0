import Foundation
import KafkaProtocol
import LogEngine
import Logging
import NIOCore
import Testing
@testable import PortaskBroker

/// What `__consumer_offsets` records cannot hold is refused with Kafka's error, never acknowledged and
/// clamped; groups and members are bounded by `group.max.size`, `group.consumer.max.size` and
/// `group.max.count`.
struct GroupBoundsTests {
    typealias F = GroupFixtures
    static let tooLong = String(repeating: "x", count: 40_000)

    @Test func commit_whenGroupIdExceedsInt16Length_isRefused() async throws {
        let (topics, cleanup) = try GroupArithmeticTests.topics()
        defer { cleanup() }
        let (coordinator, _, store) = F.coordinator()
        let handlers = GroupOffsetHandlers(coordinator: coordinator, topics: topics)
        for version: Int16 in [0, 2, 8, 9] {
            let response = await handlers.commit(GroupArithmeticTests.commit(Self.tooLong), version: version)
            #expect(GroupArithmeticTests.errors(response) == [KafkaErrorCode.invalidGroupId.rawValue])
        }
        #expect(store.records.withLockedValue { $0.isEmpty } && coordinator.group(Self.tooLong) == nil)
        let fitting = String(repeating: "y", count: Int(Int16.max))
        #expect(GroupArithmeticTests.errors(await handlers.commit(GroupArithmeticTests.commit(fitting), version: 8)) == [0])
    }

    @Test func commit_whenMetadataExceedsInt16Length_isRefused() async throws {
        let (topics, cleanup) = try GroupArithmeticTests.topics()
        defer { cleanup() }
        let (coordinator, _, store) = F.coordinator { $0.offsetMetadataMaxBytes = 1_000_000 }
        let handlers = GroupOffsetHandlers(coordinator: coordinator, topics: topics)
        let response = await handlers.commit(GroupArithmeticTests.commit("g", metadata: Self.tooLong), version: 8)
        #expect(GroupArithmeticTests.errors(response) == [KafkaErrorCode.offsetMetadataTooLarge.rawValue])
        #expect(store.records.withLockedValue { $0.isEmpty })
        #expect(GroupArithmeticTests.errors(await handlers.commit(GroupArithmeticTests.commit("g"), version: 8)) == [0])
    }

    @Test func encode_whenStringExceedsInt16Length_throwsAndTheStoreWritesNothing() async throws {
        let config = try TopicTests.temporaryConfig(["offsets.topic.num.partitions": "1"])
        defer { try? FileManager.default.removeItem(atPath: config.dataDirectory) }
        let topics = try TopicManager(config: config, logger: Logger(label: "test"))
        defer { try? topics.close() }
        let store = OffsetsTopic(topics: topics, partitions: 1, clock: { 0 })
        let long = GroupRecord.offset(
            group: "g", partition: TopicPartition(Self.tooLong, 0), value: CommittedOffset(offset: 1, commitTimestamp: 0))
        #expect(throws: BrokerError.self) { try long.key() }
        let member = GroupRecord.consumer(.member(group: "g", memberId: "m", .init(
            instanceId: nil, rackId: Self.tooLong, clientId: "c", clientHost: "h", subscribedTopicNames: [],
            subscribedTopicRegex: nil, rebalanceTimeoutMs: 1, serverAssignor: nil)))
        #expect(throws: BrokerError.self) { try member.value() }
        await #expect(throws: BrokerError.self) {
            try await store.append([.metadata(group: "g", value: nil), long], groupId: "g")
        }
        #expect(topics.partition(OffsetsTopic.name, 0)?.logEndOffset == 0)
    }

    @Test func commit_whenARecordCannotBeEncoded_isNotAcknowledged() async throws {
        let config = try TopicTests.temporaryConfig(["offsets.topic.num.partitions": "1"])
        defer { try? FileManager.default.removeItem(atPath: config.dataDirectory) }
        let topics = try TopicManager(config: config, logger: Logger(label: "test"))
        defer { try? topics.close() }
        let store = OffsetsTopic(topics: topics, partitions: 1, clock: { 0 })
        let coordinator = GroupCoordinator(
            config: GroupCoordinatorConfig(config), timers: ManualTimers(), store: store, offsetsTopic: store,
            topics: topics, logger: Logger(label: "test"))
        let group = coordinator.groupCreatingIfMissing("g")
        // Past the handler's checks (a topic name no topic can have): the write fails, nothing is applied.
        let error = await group.commit(
            memberId: "", groupInstanceId: nil, generationId: -1,
            offsets: [TopicPartition(Self.tooLong, 0): CommittedOffset(offset: 1, commitTimestamp: 0)])
        #expect(error == .unknownServerError)
        #expect(await group.committed(nil).isEmpty)
        #expect(await group.commit(
            memberId: "", groupInstanceId: nil, generationId: -1,
            offsets: [TopicPartition("t", 0): CommittedOffset(offset: 1, commitTimestamp: 0)]) == .noError)
    }

    @Test func commit_whenTheBatchExceedsMaxMessageBytes_isInvalidCommitOffsetSize() async throws {
        let config = try TopicTests.temporaryConfig(["offsets.topic.num.partitions": "1", "message.max.bytes": "10000"])
        defer { try? FileManager.default.removeItem(atPath: config.dataDirectory) }
        let topics = try TopicManager(config: config, logger: Logger(label: "test"))
        defer { try? topics.close() }
        try topics.create(name: "t", partitions: 10)
        let store = OffsetsTopic(topics: topics, partitions: 1, clock: { 0 })
        let coordinator = GroupCoordinator(
            config: GroupCoordinatorConfig(config), timers: ManualTimers(), store: store, offsetsTopic: store,
            topics: topics, logger: Logger(label: "test"))
        let handlers = GroupOffsetHandlers(coordinator: coordinator, topics: topics)
        let metadata = String(repeating: "m", count: 2000)
        let big = OffsetCommitRequest(groupId: "g", topics: [
            .init(name: "t", partitions: (0..<10).map { .init(partitionIndex: $0, committedOffset: 1, committedMetadata: metadata) }),
        ])
        let refused = await handlers.commit(big, version: 8)
        #expect(GroupArithmeticTests.errors(refused) == Array(repeating: KafkaErrorCode.invalidCommitOffsetSize.rawValue, count: 10))
        #expect(await coordinator.group("g")?.committed(nil).isEmpty == true)
        #expect(GroupArithmeticTests.errors(await handlers.commit(GroupArithmeticTests.commit("g"), version: 8)) == [0])
    }

    @Test func join_whenIdsExceedInt16Length_isRefused() async throws {
        let (coordinator, _, store) = F.coordinator()
        #expect(await coordinator.join(groupId: Self.tooLong, F.join()).error == .invalidGroupId)
        #expect(await coordinator.join(groupId: "g", F.join(instance: Self.tooLong)).error == .invalidRequest)
        #expect(await coordinator.join(groupId: "g", F.join(protocols: [Self.tooLong])).error == .invalidRequest)
        #expect(await coordinator.join(groupId: "g", F.join(Self.tooLong)).error == .invalidRequest)
        #expect(store.records.withLockedValue { $0.isEmpty } && coordinator.allGroups().isEmpty)
        // A client id at the header's limit still gets a member id the group record can hold.
        var input = F.join(version: 3)
        input.clientId = String(repeating: "c", count: Int(Int16.max))
        let joined = await coordinator.join(groupId: "g", input)
        #expect(joined.error == .noError && joined.memberId.utf8.count <= Int(Int16.max))
        let stored = try #require(await coordinator.group("g")?.storedMetadata())
        #expect(try GroupRecord.metadata(group: "g", value: stored).value() != nil)
    }

    @Test func consumerHeartbeat_whenIdsExceedInt16Length_isRefused() async throws {
        let (topics, cleanup) = try GroupArithmeticTests.topics()
        defer { cleanup() }
        let (coordinator, _, store) = F.coordinator(topics: topics)
        let longGroup = await coordinator.consumerHeartbeat(groupId: Self.tooLong, ConsumerGroupTests.input("a", epoch: 0))
        #expect(longGroup.error == .invalidGroupId)
        let longMember = await coordinator.consumerHeartbeat(groupId: "cg", ConsumerGroupTests.input(Self.tooLong, epoch: 0))
        #expect(longMember.error == .invalidRequest)
        let longTopic = await coordinator.consumerHeartbeat(
            groupId: "cg", ConsumerGroupTests.input("a", epoch: 0, topics: ["t", Self.tooLong]))
        #expect(longTopic.error == .invalidRequest)
        #expect(store.records.withLockedValue { $0.isEmpty } && coordinator.consumerGroup("cg") == nil)
        #expect(await coordinator.consumerHeartbeat(groupId: "cg", ConsumerGroupTests.input("a", epoch: 0)).error == .noError)
    }

    @Test func join_whenGroupMaxSizeReached_isRefused() async throws {
        let (coordinator, _, _) = F.coordinator { $0.groupMaxSize = 2 }
        let a = await ClassicGroupTests.joinNew(coordinator)
        let b = await ClassicGroupTests.joinNew(coordinator)
        // Two members told MEMBER_ID_REQUIRED count: a third new member is refused before it gets an id.
        let c = await coordinator.join(groupId: "g", F.join())
        #expect(c.error == .groupMaxSizeReached)
        async let joinA = coordinator.join(groupId: "g", F.join(a))
        async let joinB = coordinator.join(groupId: "g", F.join(b))
        let (joinedA, joinedB) = await (joinA, joinB)
        #expect(joinedA.error == .noError && joinedB.error == .noError)
        #expect(await coordinator.join(groupId: "g", F.join(version: 3)).error == .groupMaxSizeReached)
        #expect(await coordinator.join(groupId: "g", F.join(instance: "i")).error == .groupMaxSizeReached)
        #expect(await coordinator.group("g")?.members.count == 2)
    }

    @Test func restore_whenStoredGroupExceedsMaxSize_keepsTheFirstMembersAndRebalances() async throws {
        let (coordinator, _, _) = F.coordinator { $0.groupMaxSize = 2 }
        let members = ["m1", "m2", "m3"].map {
            StoredGroup.Member(
                memberId: $0, groupInstanceId: nil, clientId: "c", clientHost: "/h", rebalanceTimeoutMs: 10_000,
                sessionTimeoutMs: 10_000, subscription: ByteBuffer(bytes: [0, 1]), assignment: ByteBuffer())
        }
        await coordinator.restore([.metadata(group: "g", value: StoredGroup(
            protocolType: "consumer", generation: 4, protocolName: "range", leader: "m3", members: members))])
        let group = try #require(coordinator.group("g"))
        #expect(await group.memberOrder == ["m1", "m2"])
        #expect(await group.state == .preparingRebalance)
        #expect(await group.heartbeat(memberId: "m3", groupInstanceId: nil, generationId: 4) == .unknownMemberId)
    }

    @Test func consumerHeartbeat_whenGroupConsumerMaxSizeReached_isRefused() async throws {
        let (topics, cleanup) = try GroupArithmeticTests.topics()
        defer { cleanup() }
        let (coordinator, _, _) = F.coordinator(topics: topics) { $0.consumerGroupMaxSize = 1 }
        #expect(await coordinator.consumerHeartbeat(groupId: "cg", ConsumerGroupTests.input("a", epoch: 0)).error == .noError)
        let refused = await coordinator.consumerHeartbeat(groupId: "cg", ConsumerGroupTests.input("b", epoch: 0))
        #expect(refused.error == .groupMaxSizeReached)
        // The member in the group may rejoin; once it leaves, another may join.
        #expect(await coordinator.consumerHeartbeat(groupId: "cg", ConsumerGroupTests.input("a", epoch: 0)).error == .noError)
        _ = await coordinator.consumerHeartbeat(groupId: "cg", ConsumerGroupTests.input("a", epoch: -1))
        #expect(await coordinator.consumerHeartbeat(groupId: "cg", ConsumerGroupTests.input("b", epoch: 0)).error == .noError)
    }

    @Test func groups_whenGroupMaxCountReached_newGroupsAreRefused() async throws {
        let (topics, cleanup) = try GroupArithmeticTests.topics()
        defer { cleanup() }
        let (coordinator, _, _) = F.coordinator(topics: topics) { $0.groupMaxCount = 2 }
        let handlers = GroupOffsetHandlers(coordinator: coordinator, topics: topics)
        #expect(GroupArithmeticTests.errors(await handlers.commit(GroupArithmeticTests.commit("a"), version: 8)) == [0])
        #expect(await coordinator.consumerHeartbeat(groupId: "b", ConsumerGroupTests.input("m", epoch: 0)).error == .noError)
        let full = KafkaErrorCode.coordinatorNotAvailable
        #expect(GroupArithmeticTests.errors(await handlers.commit(GroupArithmeticTests.commit("c"), version: 8)) == [full.rawValue])
        #expect(await coordinator.join(groupId: "c", F.join()).error == full)
        #expect(await coordinator.consumerHeartbeat(groupId: "c", ConsumerGroupTests.input("m", epoch: 0)).error == full)
        // Existing groups keep working, including a consumer group's offsets (same id, not a new group).
        #expect(GroupArithmeticTests.errors(await handlers.commit(GroupArithmeticTests.commit("a", offset: 9), version: 8)) == [0])
        var memberCommit = GroupArithmeticTests.commit("b")
        memberCommit.memberId = "m"
        memberCommit.generationIdOrMemberEpoch = 1
        #expect(GroupArithmeticTests.errors(await handlers.commit(memberCommit, version: 9)) == [0])
        // An empty commit for a new group creates nothing; deleting a group makes room.
        #expect(GroupArithmeticTests.errors(await handlers.commit(OffsetCommitRequest(groupId: "d"), version: 8)).isEmpty)
        #expect(coordinator.group("d") == nil)
        // Entries count: "b" is now a consumer group plus the classic group holding its offsets.
        #expect(await coordinator.deleteGroup("a") == .noError)
        #expect(await coordinator.join(groupId: "c", F.join()).error == full)
        _ = await coordinator.consumerHeartbeat(groupId: "b", ConsumerGroupTests.input("m", epoch: -1))
        #expect(await coordinator.deleteGroup("b") == .noError)
        #expect(await coordinator.join(groupId: "c", F.join()).error == .memberIdRequired)
    }

    @Test func describe_whenAGroupIsNamedManyTimes_answersEachWithTheSameDescription() async throws {
        let (coordinator, _, _) = F.coordinator()
        let member = await ClassicGroupTests.joinNew(coordinator)
        _ = await coordinator.join(groupId: "g", F.join(member))
        let admin = GroupAdminHandlers(coordinator: coordinator)
        let ids = Array(repeating: "g", count: 1000) + ["", "none"]
        let response = await admin.describe(DescribeGroupsRequest(groups: ids), version: 5)
        #expect(response.groups.count == 1002)
        #expect(response.groups.prefix(1000).allSatisfy { $0.members.map(\.memberId) == [member] })
        #expect(response.groups[1000].errorCode == KafkaErrorCode.invalidGroupId.rawValue)
        #expect(response.groups[1001].groupState == "Dead")
    }

    @Test func offsetFetch_whenAGroupIsNamedManyTimes_answersEachWithItsOffsets() async throws {
        let (topics, cleanup) = try GroupArithmeticTests.topics()
        defer { cleanup() }
        let (coordinator, _, _) = F.coordinator()
        let handlers = GroupOffsetHandlers(coordinator: coordinator, topics: topics)
        _ = await handlers.commit(GroupArithmeticTests.commit("g", offset: 12), version: 8)
        var group = OffsetFetchRequest.OffsetFetchRequestGroup(groupId: "g")
        group.topics = nil
        var missing = OffsetFetchRequest.OffsetFetchRequestGroup(groupId: Self.tooLong)
        missing.topics = nil
        let request = OffsetFetchRequest(groups: Array(repeating: group, count: 1000) + [missing])
        let response = await handlers.fetch(request, version: 8)
        #expect(response.groups.count == 1001)
        #expect(response.groups.prefix(1000).allSatisfy {
            $0.errorCode == 0 && $0.topics.flatMap { $0.partitions.map(\.committedOffset) } == [12]
        })
        #expect(response.groups[1000].topics.isEmpty)
    }

    @Test func join_whenMembersSendManyProtocols_costsLinearTime() async throws {
        let (coordinator, _, _) = F.coordinator()
        let names = (0..<20_000).map { "p\($0)" }
        let start = ContinuousClock.now
        let joined = await coordinator.join(groupId: "g", F.join(protocols: names, version: 3))
        #expect(joined.error == .noError && joined.protocolName == "p0")
        let group = try #require(coordinator.group("g"))
        #expect(await group.supportsProtocols("consumer", names.reversed()))
        #expect(await !group.supportsProtocols("consumer", ["other"]))
        // Members × protocols² string comparisons took minutes here; a count per protocol takes milliseconds.
        #expect(ContinuousClock.now - start < .seconds(5))
        #expect(await group.leave([(joined.memberId, nil)]).0 == .noError)
        #expect(await group.protocolCounts.isEmpty)
    }
}
