import KafkaProtocol
import LogEngine
import NIOCore
import Testing
@testable import PortaskBroker

struct ClassicGroupTests {
    typealias F = GroupFixtures

    /// Joins a new dynamic member the v4+ way (MEMBER_ID_REQUIRED, then join with the given id).
    static func joinNew(_ coordinator: GroupCoordinator, group: String = "g") async -> String {
        let first = await coordinator.join(groupId: group, F.join())
        #expect(first.error == .memberIdRequired)
        return first.memberId
    }

    @Test func join_requiresKnownMemberIdOnlyFromVersion4() async {
        let (coordinator, _, _) = F.coordinator()
        let old = await coordinator.join(groupId: "g", F.join(version: 3))
        #expect(old.error == .noError)
        #expect(old.generationId == 1 && old.leaderId == old.memberId && old.members.count == 1)
        let (other, _, _) = F.coordinator()
        let new = await other.join(groupId: "g", F.join(version: 4))
        #expect(new.error == .memberIdRequired && !new.memberId.isEmpty)
    }

    @Test func twoMembers_joinSyncAndBecomeStable() async throws {
        let (coordinator, _, store) = F.coordinator()
        let a = await Self.joinNew(coordinator)
        let first = await coordinator.join(groupId: "g", F.join(a))
        #expect(first.generationId == 1 && first.leaderId == a && first.protocolName == "range")
        let group = try #require(coordinator.group("g"))
        #expect(await group.state == .completingRebalance)
        _ = await group.sync(memberId: a, groupInstanceId: nil, generationId: 1, protocolType: nil, protocolName: nil,
                             assignments: [a: ByteBuffer(bytes: [9])])
        #expect(await group.state == .stable)

        // A second member triggers a rebalance; the leader rejoins and both get generation 2.
        let b = await Self.joinNew(coordinator)
        async let joinB = coordinator.join(groupId: "g", F.join(b))
        await settle()
        #expect(await group.state == .preparingRebalance)
        #expect(await group.heartbeat(memberId: a, groupInstanceId: nil, generationId: 1) == .rebalanceInProgress)
        let rejoinA = await coordinator.join(groupId: "g", F.join(a))
        let joinedB = await joinB
        #expect(rejoinA.generationId == 2 && joinedB.generationId == 2)
        #expect(rejoinA.members.count == 2 && joinedB.members.isEmpty && joinedB.leaderId == a)

        async let syncB = group.sync(memberId: b, groupInstanceId: nil, generationId: 2, protocolType: "consumer",
                                     protocolName: "range", assignments: [:])
        await settle()
        let syncA = await group.sync(memberId: a, groupInstanceId: nil, generationId: 2, protocolType: nil,
                                     protocolName: nil, assignments: [a: ByteBuffer(bytes: [1]), b: ByteBuffer(bytes: [2])])
        #expect(syncA.assignment == ByteBuffer(bytes: [1]))
        #expect(await syncB.assignment == ByteBuffer(bytes: [2]))
        #expect(await group.heartbeat(memberId: b, groupInstanceId: nil, generationId: 1) == .illegalGeneration)
        #expect(await group.heartbeat(memberId: "nobody", groupInstanceId: nil, generationId: 2) == .unknownMemberId)
        let stored = store.records.withLockedValue { $0 }
        guard case .metadata(_, let value?) = stored.last else { Issue.record("no group metadata stored"); return }
        #expect(value.generation == 2 && value.members.count == 2 && value.leader == a)
    }

    @Test func sessionExpiry_removesSilentMemberAndRebalances() async throws {
        let (coordinator, timers, _) = F.coordinator()
        let a = await Self.joinNew(coordinator)
        _ = await coordinator.join(groupId: "g", F.join(a))
        let group = try #require(coordinator.group("g"))
        _ = await group.sync(memberId: a, groupInstanceId: nil, generationId: 1, protocolType: nil, protocolName: nil, assignments: [:])
        await timers.advance(by: 5000)
        #expect(await group.heartbeat(memberId: a, groupInstanceId: nil, generationId: 1) == .noError)
        await timers.advance(by: 5000)
        #expect(await group.state == .stable)
        await timers.advance(by: 1500)
        // The only member expired: the group rebalanced to Empty with the next generation.
        #expect(await group.state == .empty)
        #expect(await group.generationId == 2)
        #expect(await group.heartbeat(memberId: a, groupInstanceId: nil, generationId: 1) == .unknownMemberId)
    }

    @Test func initialDelay_holdsTheFirstRebalanceForMoreMembers() async throws {
        let (coordinator, timers, _) = F.coordinator(delayMs: 3000)
        async let first = coordinator.join(groupId: "g", F.join(version: 3))
        await settle()
        async let second = coordinator.join(groupId: "g", F.join(version: 3))
        await settle()
        let group = try #require(coordinator.group("g"))
        #expect(await group.state == .preparingRebalance)
        await timers.advance(by: 3000)
        await timers.advance(by: 3000)
        let (one, two) = await (first, second)
        #expect(one.generationId == 1 && two.generationId == 1)
        #expect(one.leaderId == two.leaderId)
        #expect(one.members.count + two.members.count == 2)
    }

    @Test func leave_removesMembersAndReportsUnknownOnes() async throws {
        let (coordinator, _, _) = F.coordinator()
        let a = await Self.joinNew(coordinator)
        _ = await coordinator.join(groupId: "g", F.join(a))
        let group = try #require(coordinator.group("g"))
        let (error, results) = await group.leave([(a, nil), ("ghost", nil)])
        #expect(error == .noError)
        #expect(results.map(\.1) == [.noError, .unknownMemberId])
        #expect(await group.state == .empty)
    }

    @Test func staticMember_rejoinFencesTheOldMemberId() async throws {
        let (coordinator, _, _) = F.coordinator()
        let first = await coordinator.join(groupId: "g", F.join(instance: "i-1"))
        #expect(first.error == .noError)
        let group = try #require(coordinator.group("g"))
        _ = await group.sync(memberId: first.memberId, groupInstanceId: "i-1", generationId: 1, protocolType: nil,
                             protocolName: nil, assignments: [first.memberId: ByteBuffer(bytes: [7])])
        let again = await coordinator.join(groupId: "g", F.join(instance: "i-1"))
        #expect(again.error == .noError && again.memberId != first.memberId)
        #expect(again.generationId == 1 && again.skipAssignment)
        #expect(await group.heartbeat(memberId: first.memberId, groupInstanceId: "i-1", generationId: 1) == .fencedInstanceId)
        #expect(await group.heartbeat(memberId: again.memberId, groupInstanceId: "i-1", generationId: 1) == .noError)
    }

    @Test func commits_checkMembershipAndExpireWhenEmpty() async throws {
        let (coordinator, timers, store) = F.coordinator()
        let simple = coordinator.groupCreatingIfMissing("s")
        let tp = TopicPartition("t", 0)
        #expect(await simple.commit(memberId: "", groupInstanceId: nil, generationId: -1,
                                    offsets: [tp: CommittedOffset(offset: 5, commitTimestamp: timers.nowMs())]) == .noError)
        #expect(await simple.committed([tp]).first?.1?.offset == 5)
        let a = await Self.joinNew(coordinator)
        _ = await coordinator.join(groupId: "g", F.join(a))
        let group = try #require(coordinator.group("g"))
        #expect(await group.commit(memberId: "x", groupInstanceId: nil, generationId: 1, offsets: [:]) == .unknownMemberId)
        #expect(await group.commit(memberId: a, groupInstanceId: nil, generationId: 1, offsets: [:]) == .rebalanceInProgress)
        #expect(await group.commit(memberId: a, groupInstanceId: nil, generationId: 7, offsets: [:]) == .illegalGeneration)

        await timers.advance(by: 61_000)
        await coordinator.expireOffsets()
        #expect(coordinator.group("s") == nil)
        let tombstones = store.records.withLockedValue { $0 }.filter {
            if case .offset(_, _, nil) = $0 { return true }
            if case .metadata(_, nil) = $0 { return true }
            return false
        }
        // s: its offset and its metadata; g (its member expired, no offsets): its metadata.
        #expect(tombstones.count == 3)
        #expect(coordinator.group("g") == nil)
    }

    @Test func delete_onlyEmptyGroups() async throws {
        let (coordinator, _, _) = F.coordinator()
        _ = await coordinator.join(groupId: "g", F.join(version: 3))
        #expect(await coordinator.deleteGroup("g") == .nonEmptyGroup)
        #expect(await coordinator.deleteGroup("missing") == .groupIdNotFound)
        _ = coordinator.groupCreatingIfMissing("e")
        #expect(await coordinator.deleteGroup("e") == .noError)
        #expect(coordinator.group("e") == nil)
    }

    @Test func shutdown_answersParkedJoinsWithNotCoordinator() async {
        let (coordinator, _, _) = F.coordinator(delayMs: 3000)
        async let parked = coordinator.join(groupId: "g", F.join(version: 3))
        await settle()
        await coordinator.stop()
        #expect(await parked.error == .notCoordinator)
    }

    @Test func expiry_inAStableGroupRemovesOnlyOffsetsOfUnsubscribedTopics() async throws {
        let (coordinator, timers, _) = F.coordinator()
        var metadata = ByteBuffer()
        metadata.writeInteger(Int16(0))
        metadata.writeImmutableBuffer(try ConsumerProtocolSubscription(topics: ["t"]).encoded(version: 0))
        var input = F.join(version: 3)
        input.protocols = [MemberProtocol(name: "range", metadata: metadata)]
        input.sessionTimeoutMs = 600_000
        let joined = await coordinator.join(groupId: "g", input)
        let group = try #require(coordinator.group("g"))
        _ = await group.sync(memberId: joined.memberId, groupInstanceId: nil, generationId: 1, protocolType: nil,
                             protocolName: nil, assignments: [:])
        let commit = CommittedOffset(offset: 1, commitTimestamp: timers.nowMs())
        #expect(await group.commit(memberId: joined.memberId, groupInstanceId: nil, generationId: 1,
                                   offsets: [TopicPartition("t", 0): commit, TopicPartition("old", 0): commit]) == .noError)
        await timers.advance(by: 61_000)
        await coordinator.expireOffsets()
        #expect(await group.committed(nil).map(\.0) == [TopicPartition("t", 0)])
        #expect(await group.state == .stable)
    }
}
