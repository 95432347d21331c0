import KafkaProtocol
import LogEngine

/// What a ShareGroupHeartbeat asks of a share group. A value type.
struct ShareHeartbeatInput: Sendable {
    var memberId: String
    var memberEpoch: Int32
    var rackId: String?
    var subscribedTopicNames: [String]?
    var clientId: String
    var clientHost: String
}

/// The answer to a ShareGroupHeartbeat. A value type.
struct ShareHeartbeatOutcome: Sendable {
    var error: KafkaErrorCode = .noError
    var message: String?
    var memberId: String?
    var memberEpoch: Int32 = 0
    /// The member's assignment, sent on join and whenever it changed.
    var assignment: Set<TopicPartition>?
}

/// A share group (KIP-932): members heartbeat with ShareGroupHeartbeat and share the partitions of the topics
/// they subscribe to. The server-side assignor gives every member every partition of its subscribed topics
/// (records, not partitions, are what share groups divide: each record goes to one member at a time through
/// the share partitions), so a member never has to give anything up and takes the new assignment epoch at its
/// next heartbeat.
///
/// Epochs: the group epoch advances when membership, subscriptions or the subscribed topics' partition counts
/// change; it wraps with `nextGroupEpoch`, never trapping. At most `group.share.max.size` members; a member
/// that misses `group.share.session.timeout.ms` is removed and its acquired records are released (a member
/// that leaves settles its records with its final acknowledgement; what it still holds is released then).
///
/// Thread-safety: an actor. Session timeouts run through `GroupTimers` with tokens.
actor ShareGroup {
    struct Member {
        var memberId: String
        var rackId: String?
        var clientId: String
        var clientHost: String
        var subscribedTopics: [String] = []
        var memberEpoch: Int32 = 0
        var previousMemberEpoch: Int32 = -1
        var assigned: Set<TopicPartition> = []
        var sessionToken: UInt64 = 0
        var sessionTimer: GroupTimer?
    }

    static let leaveEpoch: Int32 = -1
    /// The name ShareGroupDescribe gives the assignor.
    static let assignorName = "simple"

    let groupId: String
    let timers: GroupTimers
    let topics: TopicManager
    let sessionTimeoutMs: Int32
    let maxSize: Int
    /// Called with a member's id when its session expires (ends its share session, releases its records).
    let onMemberRemoved: @Sendable (String) -> Void

    var groupEpoch: Int32 = 0
    var assignmentEpoch: Int32 = 0
    var members: [String: Member] = [:]
    var partitionCounts: [String: Int] = [:]
    var token: UInt64 = 0
    var isDead = false
    /// Where the group's records go (`__consumer_offsets`); nil in unit tests that do not store.
    let store: GroupStore?
    /// The group's `share.session.timeout.ms`, when set, replaces `sessionTimeoutMs`.
    let groupConfigs: GroupConfigStore?
    /// The records last handed to the store, by key name; the next write is the difference.
    var persisted: [String: ShareGroupRecord] = [:]
    var lastWrite: Task<Void, any Error>?

    init(
        groupId: String, timers: GroupTimers, topics: TopicManager, sessionTimeoutMs: Int32, maxSize: Int,
        store: GroupStore? = nil, groupConfigs: GroupConfigStore? = nil,
        onMemberRemoved: @escaping @Sendable (String) -> Void
    ) {
        self.store = store
        self.groupConfigs = groupConfigs
        self.groupId = groupId
        self.timers = timers
        self.topics = topics
        self.sessionTimeoutMs = sessionTimeoutMs
        self.maxSize = maxSize
        self.onMemberRemoved = onMemberRemoved
    }

    /// Share group states as Kafka names them.
    var state: String {
        if isDead { return "Dead" }
        return members.isEmpty ? "Empty" : "Stable"
    }

    /// ShareGroupHeartbeat: applies it, then writes what changed to `__consumer_offsets` before answering.
    func heartbeat(_ input: ShareHeartbeatInput) async -> ShareHeartbeatOutcome {
        let outcome = applyHeartbeat(input)
        guard outcome.error == .noError else { return outcome }
        do {
            try await persistChanges()
        } catch {
            return ShareHeartbeatOutcome(error: GroupRecord.errorCode(forWriteFailure: error), message: "\(error)")
        }
        return outcome
    }

    func applyHeartbeat(_ input: ShareHeartbeatInput) -> ShareHeartbeatOutcome {
        if isDead { return ShareHeartbeatOutcome(error: .coordinatorNotAvailable) }
        let memberId = input.memberId
        if input.memberEpoch == Self.leaveEpoch {
            guard members[memberId] != nil else {
                return ShareHeartbeatOutcome(error: .unknownMemberId, message: "Member \(memberId) is not in group \(groupId).")
            }
            // The member's records stay with it: its final ShareAcknowledge (sent after the leave) settles them.
            removeMember(memberId, expired: false)
            return ShareHeartbeatOutcome(memberId: memberId, memberEpoch: Self.leaveEpoch)
        }
        var joining = false
        if input.memberEpoch == 0 {
            if members[memberId] == nil {
                guard members.count < maxSize else {
                    return ShareHeartbeatOutcome(
                        error: .groupMaxSizeReached,
                        message: "The share group has reached its maximum capacity of \(maxSize) members.")
                }
                members[memberId] = Member(
                    memberId: memberId, rackId: input.rackId, clientId: input.clientId, clientHost: input.clientHost)
                groupEpoch = groupEpoch.nextGroupEpoch
            }
            joining = true
        } else {
            guard let member = members[memberId] else {
                return ShareHeartbeatOutcome(error: .unknownMemberId, message: "Member \(memberId) is not in group \(groupId).")
            }
            guard member.memberEpoch == input.memberEpoch else {
                return ShareHeartbeatOutcome(
                    error: .fencedMemberEpoch,
                    message: "The share group member has a smaller member epoch (\(input.memberEpoch)) than the one known by the group coordinator (\(member.memberEpoch)).")
            }
        }
        guard var member = members[memberId] else { return ShareHeartbeatOutcome(error: .unknownMemberId) }
        member.clientId = input.clientId
        member.clientHost = input.clientHost
        if let rack = input.rackId { member.rackId = rack }
        if let names = input.subscribedTopicNames {
            let subscribed = Array(Set(names)).sorted()
            if subscribed != member.subscribedTopics {
                member.subscribedTopics = subscribed
                if !joining { groupEpoch = groupEpoch.nextGroupEpoch }
            }
        }
        members[memberId] = member
        scheduleSessionExpiry(memberId)
        updateAssignmentEpoch()
        guard var current = members[memberId] else { return ShareHeartbeatOutcome(error: .unknownMemberId) }
        let target = targetAssignment(for: current)
        let changed = current.memberEpoch != assignmentEpoch || current.assigned != target
        if current.memberEpoch != assignmentEpoch { current.previousMemberEpoch = current.memberEpoch }
        current.memberEpoch = assignmentEpoch
        current.assigned = target
        members[memberId] = current
        var outcome = ShareHeartbeatOutcome(memberId: memberId, memberEpoch: current.memberEpoch)
        if joining || changed { outcome.assignment = target }
        return outcome
    }

    /// Every partition of the member's subscribed topics that exist.
    func targetAssignment(for member: Member) -> Set<TopicPartition> {
        var partitions = Set<TopicPartition>()
        for name in member.subscribedTopics {
            guard let count = partitionCounts[name], count > 0 else { continue }
            for index in 0..<count { partitions.insert(TopicPartition(name, Int32(clamping: index))) }
        }
        return partitions
    }

    /// Advances the group epoch when subscribed topics appeared or grew, then moves the assignment to it.
    func updateAssignmentEpoch() {
        var counts: [String: Int] = [:]
        for name in Set(members.values.flatMap(\.subscribedTopics)) {
            if let topic = topics.topic(named: name) { counts[name] = topic.partitionCount }
        }
        if counts != partitionCounts {
            partitionCounts = counts
            if !members.isEmpty && groupEpoch == assignmentEpoch { groupEpoch = groupEpoch.nextGroupEpoch }
        }
        assignmentEpoch = groupEpoch
    }

    func nextToken() -> UInt64 {
        token &+= 1
        return token
    }

    func scheduleSessionExpiry(_ memberId: String) {
        guard var member = members[memberId] else { return }
        member.sessionTimer?.cancel()
        let token = nextToken()
        member.sessionToken = token
        let timeoutMs = groupConfigs?.integer(GroupConfigStore.sessionTimeout, of: groupId) ?? Int64(sessionTimeoutMs)
        member.sessionTimer = timers.schedule(afterMs: timeoutMs) { [weak self] in
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

    /// Removes a member (leave or session timeout); the group epoch advances. A member whose session expired
    /// has its share session ended and its records released.
    func removeMember(_ memberId: String, expired: Bool = true) {
        guard let member = members.removeValue(forKey: memberId) else { return }
        member.sessionTimer?.cancel()
        groupEpoch = groupEpoch.nextGroupEpoch
        updateAssignmentEpoch()
        if expired { onMemberRemoved(memberId) }
    }

    /// Marks the group deleted (DeleteGroups on an empty group); false when it has members.
    func markDeleted() -> Bool {
        guard members.isEmpty else { return false }
        isDead = true
        return true
    }

    /// Broker shutdown: cancels every timer.
    func shutdown() {
        for member in members.values { member.sessionTimer?.cancel() }
    }

    func snapshot() -> ShareGroupSnapshot {
        ShareGroupSnapshot(
            state: state, groupEpoch: groupEpoch, assignmentEpoch: assignmentEpoch,
            members: members.values.sorted { $0.memberId < $1.memberId }.map {
                .init(
                    memberId: $0.memberId, rackId: $0.rackId, memberEpoch: $0.memberEpoch, clientId: $0.clientId,
                    clientHost: $0.clientHost, subscribedTopics: $0.subscribedTopics, assigned: $0.assigned)
            })
    }
}

/// A snapshot of a share group for ShareGroupDescribe and ListGroups. A value type.
struct ShareGroupSnapshot: Sendable {
    struct Member: Sendable {
        var memberId: String
        var rackId: String?
        var memberEpoch: Int32
        var clientId: String
        var clientHost: String
        var subscribedTopics: [String]
        var assigned: Set<TopicPartition>
    }

    var state: String
    var groupEpoch: Int32
    var assignmentEpoch: Int32
    var members: [Member]
}
