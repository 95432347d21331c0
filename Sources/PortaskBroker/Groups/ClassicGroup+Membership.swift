import KafkaProtocol
import NIOCore

extension ClassicGroup {
    /// SyncGroup: the leader hands in the assignment (persisted with the group before anyone is answered);
    /// followers wait for it; in a stable group a member gets its current assignment.
    func sync(
        memberId: String, groupInstanceId: String?, generationId requested: Int32, protocolType requestedType: String?,
        protocolName requestedName: String?, assignments: [String: ByteBuffer]
    ) async -> SyncGroupOutcome {
        if state == .dead { return SyncGroupOutcome(error: .coordinatorNotAvailable) }
        if isStaticMemberFenced(memberId: memberId, groupInstanceId: groupInstanceId) {
            return SyncGroupOutcome(error: .fencedInstanceId)
        }
        guard members[memberId] != nil else { return SyncGroupOutcome(error: .unknownMemberId) }
        guard requested == generationId else { return SyncGroupOutcome(error: .illegalGeneration) }
        if let requestedType, requestedType != protocolType { return SyncGroupOutcome(error: .inconsistentGroupProtocol) }
        if let requestedName, requestedName != protocolName { return SyncGroupOutcome(error: .inconsistentGroupProtocol) }
        switch state {
        case .empty, .dead:
            return SyncGroupOutcome(error: .unknownMemberId)
        case .preparingRebalance:
            return SyncGroupOutcome(error: .rebalanceInProgress)
        case .stable:
            scheduleHeartbeatExpiry(memberId)
            return syncOutcome(for: memberId)
        case .completingRebalance:
            scheduleHeartbeatExpiry(memberId)
            if memberId == leaderId {
                return await completeSync(leaderId: memberId, assignments: assignments)
            }
            return await withCheckedContinuation { (continuation: CheckedContinuation<SyncGroupOutcome, Never>) in
                if let previous = members[memberId]?.syncWaiter {
                    previous.resume(returning: SyncGroupOutcome(error: .rebalanceInProgress))
                }
                members[memberId]?.syncWaiter = continuation
            }
        }
    }

    /// Stores the leader's assignment durably, then makes the group Stable and answers every parked SyncGroup.
    private func completeSync(leaderId: String, assignments: [String: ByteBuffer]) async -> SyncGroupOutcome {
        let generation = generationId
        var record = storedMetadata()
        record.members = record.members.map { member in
            var member = member
            member.assignment = assignments[member.memberId] ?? ByteBuffer()
            return member
        }
        do {
            try await persist([.metadata(group: groupId, value: record)])
        } catch {
            // As Kafka: the members waiting for this assignment get the error and the group rebalances.
            let code = GroupRecord.errorCode(forWriteFailure: error)
            if state == .completingRebalance, generationId == generation {
                for id in memberOrder {
                    members[id]?.assignment = ByteBuffer()
                    if let waiter = members[id]?.syncWaiter {
                        members[id]?.syncWaiter = nil
                        waiter.resume(returning: SyncGroupOutcome(error: code))
                    }
                }
                prepareRebalance()
                tryCompleteJoin()
            }
            return SyncGroupOutcome(error: code)
        }
        guard state == .completingRebalance, generationId == generation, members[leaderId] != nil else {
            return SyncGroupOutcome(error: .rebalanceInProgress)
        }
        syncTimer?.cancel()
        syncTimer = nil
        for id in memberOrder { members[id]?.assignment = assignments[id] ?? ByteBuffer() }
        transition(to: .stable)
        for id in memberOrder {
            guard let waiter = members[id]?.syncWaiter else { continue }
            members[id]?.syncWaiter = nil
            waiter.resume(returning: syncOutcome(for: id))
        }
        return syncOutcome(for: leaderId)
    }

    private func syncOutcome(for memberId: String) -> SyncGroupOutcome {
        SyncGroupOutcome(
            protocolType: protocolType, protocolName: protocolName,
            assignment: members[memberId]?.assignment ?? ByteBuffer())
    }

    /// Heartbeat: keeps the member's session alive and tells it when a rebalance is under way.
    func heartbeat(memberId: String, groupInstanceId: String?, generationId requested: Int32) -> KafkaErrorCode {
        if state == .dead { return .coordinatorNotAvailable }
        if isStaticMemberFenced(memberId: memberId, groupInstanceId: groupInstanceId) { return .fencedInstanceId }
        guard members[memberId] != nil, state != .empty else { return .unknownMemberId }
        guard requested == generationId else { return .illegalGeneration }
        scheduleHeartbeatExpiry(memberId)
        return state == .preparingRebalance ? .rebalanceInProgress : .noError
    }

    /// LeaveGroup for several members (by member id, or by group instance id when the member id is empty).
    /// Returns each member's (resolved id, error); the group rebalances after removals.
    func leave(_ leaving: [(memberId: String, groupInstanceId: String?)]) -> (KafkaErrorCode, [(String, KafkaErrorCode)]) {
        if state == .dead { return (.coordinatorNotAvailable, []) }
        var results: [(String, KafkaErrorCode)] = []
        for (requestedId, instance) in leaving {
            var memberId = requestedId
            if memberId.isEmpty, let instance {
                guard let resolved = staticMembers[instance] else {
                    results.append((requestedId, .unknownMemberId))
                    continue
                }
                memberId = resolved
            } else if isStaticMemberFenced(memberId: memberId, groupInstanceId: instance) {
                results.append((requestedId, .fencedInstanceId))
                continue
            }
            if pendingMembers.remove(memberId) != nil {
                results.append((memberId, .noError))
                if state == .preparingRebalance { tryCompleteJoin() }
                continue
            }
            guard members[memberId] != nil else {
                results.append((memberId, .unknownMemberId))
                continue
            }
            removeMemberAndUpdateGroup(memberId)
            results.append((memberId, .noError))
        }
        return (.noError, results)
    }
}
