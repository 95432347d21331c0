import KafkaProtocol
import LogEngine

/// What a ConsumerGroupHeartbeat asks of a group. A value type.
struct ConsumerHeartbeatInput: Sendable {
    var memberId: String
    var memberEpoch: Int32
    var instanceId: String?
    var rackId: String?
    var rebalanceTimeoutMs: Int32
    var subscribedTopicNames: [String]?
    var subscribedTopicRegex: String?
    var serverAssignor: String?
    /// The partitions the member reports owning; nil when unchanged since its last report.
    var ownedPartitions: Set<TopicPartition>?
    var clientId: String
    var clientHost: String
}

/// The answer to a ConsumerGroupHeartbeat. A value type.
struct ConsumerHeartbeatOutcome: Sendable {
    var error: KafkaErrorCode = .noError
    var message: String?
    var memberId: String?
    var memberEpoch: Int32 = 0
    /// The member's assignment, sent when it changed (or on join, or when the member reports something else).
    var assignment: Set<TopicPartition>?
}

extension ConsumerGroup {
    static let leaveEpoch: Int32 = -1
    static let staticLeaveEpoch: Int32 = -2

    /// ConsumerGroupHeartbeat: applies the request, writes what changed to the store, then answers.
    func heartbeat(_ input: ConsumerHeartbeatInput) async -> ConsumerHeartbeatOutcome {
        let outcome = applyHeartbeat(input)
        do {
            try await persistChanges()
        } catch {
            return ConsumerHeartbeatOutcome(error: GroupRecord.errorCode(forWriteFailure: error), message: "\(error)")
        }
        return outcome
    }

    private func applyHeartbeat(_ input: ConsumerHeartbeatInput) -> ConsumerHeartbeatOutcome {
        if isDead { return ConsumerHeartbeatOutcome(error: .coordinatorNotAvailable) }
        let memberId = input.memberId
        if input.memberEpoch == Self.leaveEpoch || input.memberEpoch == Self.staticLeaveEpoch {
            guard let member = members[memberId] else {
                return ConsumerHeartbeatOutcome(error: .unknownMemberId, message: "Member \(memberId) is not in group \(groupId).")
            }
            if input.memberEpoch == Self.staticLeaveEpoch && member.instanceId != nil {
                // A static member leaving for a while keeps its partitions until its session expires or the same
                // instance rejoins.
                members[memberId]?.memberEpoch = Self.staticLeaveEpoch
            } else {
                removeMember(memberId)
                updateTargetAssignment()
            }
            return ConsumerHeartbeatOutcome(memberId: memberId, memberEpoch: input.memberEpoch)
        }
        if let assignor = input.serverAssignor, ConsumerGroupAssignor(rawValue: assignor) == nil {
            return ConsumerHeartbeatOutcome(error: .unsupportedAssignor, message: "Assignor \(assignor) is not supported.")
        }
        if let regex = input.subscribedTopicRegex, (try? TopicRegex(regex)) == nil {
            return ConsumerHeartbeatOutcome(error: .invalidRegularExpression, message: "Invalid regular expression \(regex).")
        }
        var joining = false
        if input.memberEpoch == 0 {
            if members[memberId] != nil { removeMember(memberId) }
            if let instance = input.instanceId,
               var previous = members.values.first(where: { $0.instanceId == instance && $0.memberId != memberId }) {
                guard previous.memberEpoch == Self.staticLeaveEpoch else {
                    return ConsumerHeartbeatOutcome(
                        error: .unreleasedInstanceId,
                        message: "Static member \(previous.memberId) with instance id \(instance) is still active.")
                }
                // The same instance rejoins: it takes over the departed member's partitions and target.
                previous.sessionTimer?.cancel()
                previous.revocationTimer?.cancel()
                members.removeValue(forKey: previous.memberId)
                let target = targetAssignment.removeValue(forKey: previous.memberId)
                previous.memberId = memberId
                previous.memberEpoch = 0
                previous.previousMemberEpoch = -1
                previous.sessionTimer = nil
                previous.revocationTimer = nil
                members[memberId] = previous
                if let target { targetAssignment[memberId] = target }
            } else {
                // `group.consumer.max.size`: a member that is not in the group is refused (Kafka's check).
                guard members.count < maxSize else {
                    return ConsumerHeartbeatOutcome(
                        error: .groupMaxSizeReached,
                        message: "The consumer group has reached its maximum capacity of \(maxSize) members.")
                }
                members[memberId] = Member(
                    memberId: memberId, instanceId: input.instanceId, rackId: input.rackId, clientId: input.clientId,
                    clientHost: input.clientHost, rebalanceTimeoutMs: input.rebalanceTimeoutMs)
                groupEpoch = groupEpoch.nextGroupEpoch
            }
            joining = true
        } else {
            guard let member = members[memberId] else {
                return ConsumerHeartbeatOutcome(error: .unknownMemberId, message: "Member \(memberId) is not in group \(groupId).")
            }
            if input.memberEpoch != member.memberEpoch {
                let tolerated = input.memberEpoch == member.previousMemberEpoch
                    && input.ownedPartitions.map { $0.isSubset(of: member.assigned) } == true
                if !tolerated {
                    return ConsumerHeartbeatOutcome(
                        error: .fencedMemberEpoch,
                        message: "The member epoch \(input.memberEpoch) does not match \(member.memberEpoch).")
                }
            }
        }
        guard var member = members[memberId] else { return ConsumerHeartbeatOutcome(error: .unknownMemberId) }
        member.clientId = input.clientId
        member.clientHost = input.clientHost
        if input.rebalanceTimeoutMs > 0 { member.rebalanceTimeoutMs = input.rebalanceTimeoutMs }
        if let rack = input.rackId { member.rackId = rack }
        if let assignor = input.serverAssignor, assignor != member.serverAssignor {
            member.serverAssignor = assignor
            if !joining { groupEpoch = groupEpoch.nextGroupEpoch }
        }
        if input.subscribedTopicNames != nil || input.subscribedTopicRegex != nil {
            let topics = resolveSubscription(names: input.subscribedTopicNames, regex: input.subscribedTopicRegex)
            member.subscriptionNames = input.subscribedTopicNames
            member.subscriptionRegex = input.subscribedTopicRegex
            if topics != member.subscribedTopics {
                member.subscribedTopics = topics
                if !joining { groupEpoch = groupEpoch.nextGroupEpoch }
            }
        }
        members[memberId] = member
        refreshRegexSubscriptions()
        scheduleSessionExpiry(memberId)
        updateTargetAssignment()
        let changed = reconcile(memberId, owned: input.ownedPartitions)
        guard let current = members[memberId] else { return ConsumerHeartbeatOutcome(error: .unknownMemberId) }
        var outcome = ConsumerHeartbeatOutcome(memberId: memberId, memberEpoch: current.memberEpoch)
        if joining || changed || (input.ownedPartitions.map { $0 != current.assigned } ?? false) {
            outcome.assignment = current.assigned
        }
        return outcome
    }

    /// The topics a subscription names: the listed names plus existing non-internal topics matching the regex.
    func resolveSubscription(names: [String]?, regex: String?) -> [String] {
        var topicsSet = Set(names ?? [])
        // RE2 semantics in linear time (as Kafka's RE2J): no pattern can make matching backtrack.
        if let regex, let expression = try? TopicRegex(regex) {
            for topic in topics.allTopics() where !topic.isInternal && expression.matchesWhole(topic.name) {
                topicsSet.insert(topic.name)
            }
        }
        return topicsSet.sorted()
    }

    /// Re-resolves regex subscriptions (topics may have been created); changes advance the group epoch.
    func refreshRegexSubscriptions() {
        for (id, member) in members where member.subscriptionRegex != nil {
            let topics = resolveSubscription(names: member.subscriptionNames, regex: member.subscriptionRegex)
            if topics != member.subscribedTopics {
                members[id]?.subscribedTopics = topics
                groupEpoch = groupEpoch.nextGroupEpoch
            }
        }
    }

    /// Moves a member toward its target assignment (Kafka's current-assignment builder): first it revokes what
    /// it must give up (keeping its epoch), then it takes the new epoch and the target partitions nobody else
    /// still holds. Returns whether its assignment or epoch changed.
    func reconcile(_ memberId: String, owned: Set<TopicPartition>?) -> Bool {
        guard var member = members[memberId] else { return false }
        let target = targetAssignment[memberId] ?? []
        let before = (member.assigned, member.memberEpoch)
        if !member.pendingRevocation.isEmpty {
            guard let owned, owned.isDisjoint(with: member.pendingRevocation) else { return false }
            member.pendingRevocation = []
            member.revocationTimer?.cancel()
            member.revocationTimer = nil
        }
        if member.memberEpoch != assignmentEpoch {
            let revoke = member.assigned.subtracting(target)
            if !revoke.isEmpty {
                member.assigned.subtract(revoke)
                member.pendingRevocation = revoke
                let epoch = member.memberEpoch
                member.revocationTimer = timers.schedule(afterMs: Int64(member.rebalanceTimeoutMs)) { [weak self] in
                    guard let self else { return }
                    Task { await self.revocationTimedOut(memberId, epoch: epoch) }
                }
                members[memberId] = member
                return true
            }
            member.previousMemberEpoch = member.memberEpoch
            member.memberEpoch = assignmentEpoch
        }
        var held = Set<TopicPartition>()
        for (id, other) in members where id != memberId {
            held.formUnion(other.assigned)
            held.formUnion(other.pendingRevocation)
        }
        member.assigned.formUnion(target.subtracting(member.assigned).subtracting(held))
        members[memberId] = member
        return before != (member.assigned, member.memberEpoch)
    }
}
