import Foundation
import KafkaProtocol
import LogEngine

/// A group under the `consumer` protocol (KIP-848): members heartbeat with ConsumerGroupHeartbeat, the broker
/// computes the target assignment with a server-side assignor and moves each member to it one step at a time
/// (a partition is handed to its new owner only after the previous owner reported it revoked).
///
/// Epochs: the group epoch advances when membership, subscriptions or subscribed topics' partition counts
/// change; the target assignment is recomputed for that epoch (the assignment epoch); a member's epoch reaches
/// the assignment epoch once it has nothing left to revoke. Epochs, members, target and current assignments are
/// written to `__consumer_offsets` (`ConsumerGroupRecord`) before a heartbeat is answered and restored at start-up.
///
/// Epochs come from requests and from `__consumer_offsets`; they advance with `nextGroupEpoch` (after
/// Int32.max comes 1, never a trap), and "the group epoch moved past the assignment" is `!=`, so a wrapped
/// epoch still recomputes the target. At most `group.consumer.max.size` members.
///
/// Thread-safety: an actor. Session and revocation timeouts run through `GroupTimers` with tokens.
actor ConsumerGroup {
    struct Member {
        var memberId: String
        var instanceId: String?
        var rackId: String?
        var clientId: String
        var clientHost: String
        var rebalanceTimeoutMs: Int32
        /// The resolved subscription: listed names plus regex matches, sorted.
        var subscribedTopics: [String] = []
        var subscriptionNames: [String]?
        var subscriptionRegex: String?
        var serverAssignor: String?
        var memberEpoch: Int32 = 0
        var previousMemberEpoch: Int32 = -1
        var assigned: Set<TopicPartition> = []
        var pendingRevocation: Set<TopicPartition> = []
        var sessionToken: UInt64 = 0
        var sessionTimer: GroupTimer?
        var revocationTimer: GroupTimer?
    }

    /// Consumer group states as Kafka names them.
    enum State: String {
        case empty = "Empty", assigning = "Assigning", reconciling = "Reconciling", stable = "Stable", dead = "Dead"
    }

    let groupId: String
    let timers: GroupTimers
    let topics: TopicManager
    let sessionTimeoutMs: Int32
    let heartbeatIntervalMs: Int32
    /// `group.consumer.max.size`.
    let maxSize: Int
    let store: GroupStore?

    var groupEpoch: Int32 = 0
    var assignmentEpoch: Int32 = 0
    var members: [String: Member] = [:]
    var targetAssignment: [String: Set<TopicPartition>] = [:]
    var assignor = ConsumerGroupAssignor.defaultAssignor
    /// Partition counts of the subscribed topics when the group epoch last advanced.
    var subscribedPartitionCounts: [String: Int] = [:]
    var token: UInt64 = 0
    var isDead = false
    /// The records last handed to the store, by key name; the next write is the difference.
    var persisted: [String: ConsumerGroupRecord] = [:]
    var lastWrite: Task<Void, any Error>?

    init(
        groupId: String, timers: GroupTimers, topics: TopicManager, sessionTimeoutMs: Int32, heartbeatIntervalMs: Int32,
        maxSize: Int = Int(Int32.max), store: GroupStore? = nil
    ) {
        self.maxSize = maxSize
        self.store = store
        self.groupId = groupId
        self.timers = timers
        self.topics = topics
        self.sessionTimeoutMs = sessionTimeoutMs
        self.heartbeatIntervalMs = heartbeatIntervalMs
    }

    var state: State {
        if isDead { return .dead }
        if members.isEmpty { return .empty }
        if groupEpoch != assignmentEpoch { return .assigning }
        let reconciled = members.values.filter { $0.memberEpoch >= 0 }.allSatisfy {
            $0.memberEpoch == assignmentEpoch && $0.pendingRevocation.isEmpty && $0.assigned == (targetAssignment[$0.memberId] ?? [])
        }
        return reconciled ? .stable : .reconciling
    }

    func nextToken() -> UInt64 {
        token &+= 1
        return token
    }

    /// Checks an OffsetCommit or OffsetFetch from a member: it must exist and use its current epoch, or the
    /// epoch before it. A member's epoch only advances once it has nothing left to revoke, so everything it
    /// owned under the previous epoch is still its own; accepting that epoch closes the window in which the
    /// heartbeat answer with the new epoch is still on its way (as KIP-1251 relaxes Kafka's check).
    func validate(memberId: String, memberEpoch: Int32) -> KafkaErrorCode {
        guard let member = members[memberId], member.memberEpoch >= 0 else { return .unknownMemberId }
        let current = member.memberEpoch == memberEpoch
        let previous = member.previousMemberEpoch > 0 && member.previousMemberEpoch == memberEpoch
        return current || previous ? .noError : .staleMemberEpoch
    }

    func scheduleSessionExpiry(_ memberId: String) {
        guard var member = members[memberId] else { return }
        member.sessionTimer?.cancel()
        let token = nextToken()
        member.sessionToken = token
        member.sessionTimer = timers.schedule(afterMs: Int64(sessionTimeoutMs)) { [weak self] in
            guard let self else { return }
            Task { await self.sessionExpired(memberId, token: token) }
        }
        members[memberId] = member
    }

    func sessionExpired(_ memberId: String, token: UInt64) {
        guard members[memberId]?.sessionToken == token else { return }
        removeMember(memberId)
        persistInBackground()
    }

    func revocationTimedOut(_ memberId: String, epoch: Int32) {
        guard let member = members[memberId], !member.pendingRevocation.isEmpty, member.memberEpoch == epoch else { return }
        removeMember(memberId)
        persistInBackground()
    }

    /// Broker shutdown: cancels every timer.
    func shutdown() {
        for member in members.values {
            member.sessionTimer?.cancel()
            member.revocationTimer?.cancel()
        }
    }

    /// Removes a member (leave, session or revocation timeout); the group epoch advances.
    func removeMember(_ memberId: String) {
        guard let member = members.removeValue(forKey: memberId) else { return }
        member.sessionTimer?.cancel()
        member.revocationTimer?.cancel()
        targetAssignment.removeValue(forKey: memberId)
        groupEpoch = groupEpoch.nextGroupEpoch
    }

    /// The partition counts of the topics the members subscribe to (existing topics only).
    func currentPartitionCounts() -> [String: Int] {
        var counts: [String: Int] = [:]
        for name in Set(members.values.flatMap(\.subscribedTopics)) {
            if let topic = topics.topic(named: name) { counts[name] = topic.partitionCount }
        }
        return counts
    }

    /// Recomputes the target assignment when the group epoch moved past it (differs from the assignment epoch).
    func updateTargetAssignment() {
        let counts = currentPartitionCounts()
        if counts != subscribedPartitionCounts {
            subscribedPartitionCounts = counts
            if !members.isEmpty && groupEpoch == assignmentEpoch { groupEpoch = groupEpoch.nextGroupEpoch }
        }
        guard groupEpoch != assignmentEpoch else { return }
        let preferred = members.values.compactMap(\.serverAssignor).sorted().first
        assignor = preferred.flatMap(ConsumerGroupAssignor.init(rawValue:)) ?? ConsumerGroupAssignor.defaultAssignor
        targetAssignment = assignor.assign(
            subscriptions: members.mapValues { Set($0.subscribedTopics) }, partitionCounts: counts,
            previous: targetAssignment)
        assignmentEpoch = groupEpoch
    }
}

/// A snapshot of a consumer group for ConsumerGroupDescribe and ListGroups. A value type.
struct ConsumerGroupSnapshot: Sendable {
    struct Member: Sendable {
        var memberId: String
        var instanceId: String?
        var rackId: String?
        var memberEpoch: Int32
        var clientId: String
        var clientHost: String
        var subscribedTopics: [String]
        var subscriptionRegex: String?
        var assigned: Set<TopicPartition>
        var target: Set<TopicPartition>
    }

    var state: String
    var groupEpoch: Int32
    var assignmentEpoch: Int32
    var assignor: String
    var members: [Member]
}

extension ConsumerGroup {
    func snapshot() -> ConsumerGroupSnapshot {
        ConsumerGroupSnapshot(
            state: state.rawValue, groupEpoch: groupEpoch, assignmentEpoch: assignmentEpoch, assignor: assignor.rawValue,
            members: members.values.sorted { $0.memberId < $1.memberId }.map {
                .init(
                    memberId: $0.memberId, instanceId: $0.instanceId, rackId: $0.rackId, memberEpoch: $0.memberEpoch,
                    clientId: $0.clientId, clientHost: $0.clientHost, subscribedTopics: $0.subscribedTopics,
                    subscriptionRegex: $0.subscriptionRegex, assigned: $0.assigned,
                    target: targetAssignment[$0.memberId] ?? [])
            })
    }
}
