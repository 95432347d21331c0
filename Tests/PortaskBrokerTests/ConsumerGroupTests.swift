import Foundation
import KafkaProtocol
import LogEngine
import Logging
import Testing
@testable import PortaskBroker

struct ConsumerGroupTests {
    static func partitions(_ topic: String, _ indexes: [Int32]) -> Set<TopicPartition> {
        Set(indexes.map { TopicPartition(topic, $0) })
    }

    @Test func range_splitsEachTopicIntoContiguousRanges() {
        let result = ConsumerGroupAssignor.range.assign(
            subscriptions: ["a": ["t", "u"], "b": ["t"]], partitionCounts: ["t": 5, "u": 2], previous: [:])
        #expect(result["a"] == Self.partitions("t", [0, 1, 2]).union(Self.partitions("u", [0, 1])))
        #expect(result["b"] == Self.partitions("t", [3, 4]))
    }

    @Test func uniform_isBalancedAndSticky() {
        let first = ConsumerGroupAssignor.uniform.assign(
            subscriptions: ["a": ["t"], "b": ["t"]], partitionCounts: ["t": 6], previous: [:])
        #expect(first["a"]?.count == 3 && first["b"]?.count == 3)
        let second = ConsumerGroupAssignor.uniform.assign(
            subscriptions: ["a": ["t"], "b": ["t"], "c": ["t"]], partitionCounts: ["t": 6], previous: first)
        #expect(second.values.map(\.count).sorted() == [2, 2, 2])
        #expect(second["a"]!.isSubset(of: first["a"]!) && second["b"]!.isSubset(of: first["b"]!))
        #expect(Set(second.values.flatMap { $0 }).count == 6)
    }

    static func input(_ id: String, epoch: Int32, owned: Set<TopicPartition>? = nil, topics: [String]? = ["t"]) -> ConsumerHeartbeatInput {
        ConsumerHeartbeatInput(
            memberId: id, memberEpoch: epoch, rebalanceTimeoutMs: 30_000, subscribedTopicNames: topics,
            ownedPartitions: owned, clientId: "c", clientHost: "/127.0.0.1")
    }

    @Test func heartbeat_handsPartitionsOverOnlyAfterRevocation() async throws {
        let config = try TopicTests.temporaryConfig()
        defer { try? FileManager.default.removeItem(atPath: config.dataDirectory) }
        let topics = try TopicManager(config: config, logger: Logger(label: "test"))
        try topics.create(name: "t", partitions: 4)
        let timers = ManualTimers()
        let group = ConsumerGroup(groupId: "g", timers: timers, topics: topics, sessionTimeoutMs: 6000, heartbeatIntervalMs: 500)

        let a = await group.heartbeat(Self.input("a", epoch: 0, owned: []))
        #expect(a.memberEpoch == 1 && a.assignment?.count == 4)
        let b = await group.heartbeat(Self.input("b", epoch: 0, owned: []))
        // b joins at epoch 2 but its partitions are still a's: nothing yet.
        #expect(b.memberEpoch == 2 && b.assignment == [])
        #expect(await group.state == .reconciling)
        let revoke = await group.heartbeat(Self.input("a", epoch: 1, topics: nil))
        #expect(revoke.memberEpoch == 1 && revoke.assignment?.count == 2)
        #expect(await group.heartbeat(Self.input("b", epoch: 2, topics: nil)).assignment == nil)
        let revoked = await group.heartbeat(Self.input("a", epoch: 1, owned: revoke.assignment, topics: nil))
        #expect(revoked.memberEpoch == 2)
        let taken = await group.heartbeat(Self.input("b", epoch: 2, topics: nil))
        #expect(taken.assignment?.count == 2 && taken.assignment!.isDisjoint(with: revoke.assignment!))
        #expect(await group.state == .stable)

        #expect(await group.heartbeat(Self.input("a", epoch: 7, topics: nil)).error == .fencedMemberEpoch)
        #expect(await group.validate(memberId: "b", memberEpoch: 2) == .noError)
        #expect(await group.validate(memberId: "b", memberEpoch: 1) == .staleMemberEpoch)

        // b stops heartbeating: after the session timeout a gets everything back.
        await timers.advance(by: 4000)
        _ = await group.heartbeat(Self.input("a", epoch: 2, topics: nil))
        await timers.advance(by: 3000)
        let back = await group.heartbeat(Self.input("a", epoch: 2, topics: nil))
        #expect(back.memberEpoch == 3 && back.assignment?.count == 4)
        let left = await group.heartbeat(Self.input("a", epoch: -1, topics: nil))
        #expect(left.memberEpoch == -1)
        #expect(await group.state == .empty)
    }

    @Test func heartbeat_withABacktrackingRegex_matchesInLinearTime() async throws {
        let config = try TopicTests.temporaryConfig()
        defer { try? FileManager.default.removeItem(atPath: config.dataDirectory) }
        let topics = try TopicManager(config: config, logger: Logger(label: "test"))
        for index in 0..<20 { try topics.create(name: String(repeating: "a", count: 40 + index) + "b", partitions: 1) }
        try topics.create(name: String(repeating: "a", count: 40), partitions: 1)
        let group = ConsumerGroup(
            groupId: "re", timers: ManualTimers(), topics: topics, sessionTimeoutMs: 6000, heartbeatIntervalMs: 500)
        var input = Self.input("m", epoch: 0, topics: nil)
        input.subscribedTopicRegex = "(a|a)+"
        let started = ContinuousClock.now
        let answer = await group.heartbeat(input)
        // A backtracking matcher needs 2^40 steps per topic here; linear matching takes milliseconds (the bound is
        // loose because the suite runs tests in parallel on a shared machine: 2^40 steps would take hours).
        #expect(ContinuousClock.now - started < .seconds(120))
        #expect(answer.error == .noError && answer.assignment?.count == 1)
        input.subscribedTopicRegex = "(a"
        input.memberId = "n"
        #expect(await group.heartbeat(input).error == .invalidRegularExpression)
    }

    @Test func staticMember_leavingTemporarilyKeepsItsPartitionsForTheSameInstance() async throws {
        let config = try TopicTests.temporaryConfig()
        defer { try? FileManager.default.removeItem(atPath: config.dataDirectory) }
        let topics = try TopicManager(config: config, logger: Logger(label: "test"))
        try topics.create(name: "t", partitions: 4)
        let group = ConsumerGroup(groupId: "g", timers: ManualTimers(), topics: topics, sessionTimeoutMs: 6000, heartbeatIntervalMs: 500)
        var a = Self.input("a", epoch: 0, owned: [])
        a.instanceId = "i-a"
        var b = Self.input("b", epoch: 0, owned: [])
        b.instanceId = "i-b"
        _ = await group.heartbeat(a)
        _ = await group.heartbeat(b)
        let revoke = await group.heartbeat(Self.input("a", epoch: 1, topics: nil))
        _ = await group.heartbeat(Self.input("a", epoch: 1, owned: revoke.assignment, topics: nil))
        let bAssigned = await group.heartbeat(Self.input("b", epoch: 2, topics: nil)).assignment
        #expect(bAssigned?.count == 2)

        var leave = Self.input("b", epoch: -2, topics: nil)
        leave.instanceId = "i-b"
        #expect(await group.heartbeat(leave).memberEpoch == -2)
        var other = Self.input("c", epoch: 0, owned: [])
        other.instanceId = "i-a"
        #expect(await group.heartbeat(other).error == .unreleasedInstanceId)
        var back = Self.input("b2", epoch: 0, owned: [])
        back.instanceId = "i-b"
        let rejoined = await group.heartbeat(back)
        #expect(rejoined.error == .noError && rejoined.memberEpoch == 2 && rejoined.assignment == bAssigned)
        #expect(await group.groupEpoch == 2)
    }

    @Test func handlers_encodeEveryVersionAndShowTheGroupInListings() async throws {
        let config = try TopicTests.temporaryConfig()
        defer { try? FileManager.default.removeItem(atPath: config.dataDirectory) }
        let topics = try TopicManager(config: config, logger: Logger(label: "test"))
        let topic = try topics.create(name: "t", partitions: 2)
        let coordinator = GroupCoordinator(
            config: GroupCoordinatorConfig(), timers: ManualTimers(), store: MemoryGroupStore(), offsetsTopic: nil,
            topics: topics, logger: Logger(label: "test"))
        let handlers = ConsumerGroupHandlers(coordinator: coordinator, topics: topics)
        for version in ConsumerGroupHeartbeatRequest.validVersions {
            let context = GroupHandlerVersionTests.context(.consumerGroupHeartbeat, version)
            var request = ConsumerGroupHeartbeatRequest(
                groupId: "cg\(version)", memberId: version >= 1 ? "member-\(version)" : "", memberEpoch: 0,
                rebalanceTimeoutMs: 30_000, subscribedTopicNames: ["t"], topicPartitions: [])
            let joined = await handlers.heartbeat(request, context: context)
            _ = try joined.encoded(version: version)
            #expect(joined.errorCode == 0 && joined.memberEpoch == 1 && joined.heartbeatIntervalMs == 5000)
            #expect(joined.assignment?.topicPartitions.first?.topicId == topic.id)
            #expect(joined.assignment?.topicPartitions.first?.partitions == [0, 1])
            request.memberId = joined.memberId ?? ""
            request.memberEpoch = 5
            let fenced = await handlers.heartbeat(request, context: context)
            _ = try fenced.encoded(version: version)
            #expect(fenced.errorCode == KafkaErrorCode.fencedMemberEpoch.rawValue)
            request.serverAssignor = "nope"
            request.memberEpoch = 0
            #expect(await handlers.heartbeat(request, context: context).errorCode == KafkaErrorCode.unsupportedAssignor.rawValue)
        }
        let described = await handlers.describe(ConsumerGroupDescribeRequest(groupIds: ["cg1", "none"]))
        _ = try described.encoded(version: 0)
        #expect(described.groups.map(\.errorCode) == [0, KafkaErrorCode.groupIdNotFound.rawValue])
        #expect(described.groups[0].members.first?.assignment.topicPartitions.first?.topicName == "t")
        #expect(described.groups[0].groupState == "Stable" && described.groups[0].assignorName == "uniform")

        let admin = GroupAdminHandlers(coordinator: coordinator)
        let listed = await admin.list(ListGroupsRequest(typesFilter: ["consumer"]), version: 5)
        #expect(listed.groups.map(\.groupId) == ["cg0", "cg1"] && listed.groups.allSatisfy { $0.groupType == "consumer" })
        #expect(await admin.list(ListGroupsRequest(typesFilter: ["classic"]), version: 5).groups.isEmpty)
        let join = await coordinator.join(groupId: "cg0", GroupFixtures.join(version: 3))
        #expect(join.error == .inconsistentGroupProtocol)
        #expect(await coordinator.deleteGroup("cg0") == .nonEmptyGroup)
    }
}
