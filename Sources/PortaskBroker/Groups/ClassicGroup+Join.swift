import Foundation
import KafkaProtocol
import NIOCore

extension ClassicGroup {
    /// JoinGroup: registers or updates the member and answers once the rebalance completes (or at once when
    /// nothing has to change, or with an error).
    func join(_ input: JoinGroupInput) async -> JoinGroupOutcome {
        if state == .dead { return JoinGroupOutcome(error: .coordinatorNotAvailable, memberId: input.memberId) }
        guard supportsProtocols(input.protocolType, input.protocols.map(\.name)) else {
            return JoinGroupOutcome(error: .inconsistentGroupProtocol, memberId: input.memberId)
        }
        if input.memberId.isEmpty {
            return await joinNewMember(input)
        }
        return await joinKnownMember(input)
    }

    /// Kafka's member ids: the group instance id (static members) or the client id, a dash and a UUID; the
    /// prefix is shortened when the id would not fit Kafka's int16 strings in the group metadata record.
    static func newMemberId(prefix: String) -> String {
        let suffix = "-" + UUID().uuidString.lowercased()
        return prefix.prefix(utf8Bytes: GroupRecord.maxStringBytes - suffix.utf8.count) + suffix
    }

    private func joinNewMember(_ input: JoinGroupInput) async -> JoinGroupOutcome {
        let newId = Self.newMemberId(prefix: input.groupInstanceId ?? input.clientId)
        if let instance = input.groupInstanceId, let oldId = staticMembers[instance] {
            return await replaceStaticMember(oldId: oldId, newId: newId, input)
        }
        // `group.max.size`: members and members told MEMBER_ID_REQUIRED that have not joined yet (Kafka's check
        // for an unknown member joining).
        if members.count + pendingMembers.count >= config.groupMaxSize {
            return JoinGroupOutcome(error: .groupMaxSizeReached, memberId: input.memberId)
        }
        if input.groupInstanceId != nil {
            return await addMemberAndRebalance(newId, input)
        }
        if input.requireKnownMemberId {
            pendingMembers.insert(newId)
            let token = nextToken()
            _ = timers.schedule(afterMs: Int64(input.sessionTimeoutMs)) { [weak self] in
                guard let self else { return }
                Task { await self.pendingMemberExpired(newId, token: token) }
            }
            return JoinGroupOutcome(error: .memberIdRequired, memberId: newId)
        }
        return await addMemberAndRebalance(newId, input)
    }

    func pendingMemberExpired(_ memberId: String, token: UInt64) {
        guard pendingMembers.remove(memberId) != nil else { return }
        if state == .preparingRebalance { tryCompleteJoin() }
    }

    private func joinKnownMember(_ input: JoinGroupInput) async -> JoinGroupOutcome {
        let memberId = input.memberId
        if pendingMembers.contains(memberId) {
            return await addMemberAndRebalance(memberId, input)
        }
        if isStaticMemberFenced(memberId: memberId, groupInstanceId: input.groupInstanceId) {
            return JoinGroupOutcome(error: .fencedInstanceId, memberId: memberId)
        }
        guard let member = members[memberId] else {
            return JoinGroupOutcome(error: .unknownMemberId, memberId: memberId)
        }
        switch state {
        case .preparingRebalance:
            return await updateMemberAndRebalance(memberId, input)
        case .completingRebalance:
            if member.matches(input.protocols) {
                scheduleHeartbeatExpiry(memberId)
                return currentJoinOutcome(for: memberId)
            }
            return await updateMemberAndRebalance(memberId, input)
        case .stable:
            if memberId == leaderId || !member.matches(input.protocols) {
                return await updateMemberAndRebalance(memberId, input)
            }
            scheduleHeartbeatExpiry(memberId)
            return currentJoinOutcome(for: memberId)
        case .empty, .dead:
            return JoinGroupOutcome(error: .unknownMemberId, memberId: memberId)
        }
    }

    /// A static member rejoining with a new member id: the old id is fenced and replaced (Kafka's
    /// `updateStaticMemberAndRebalance`). A stable group keeps its assignment when nothing changed.
    private func replaceStaticMember(oldId: String, newId: String, _ input: JoinGroupInput) async -> JoinGroupOutcome {
        guard var member = members[oldId] else { return await addMemberAndRebalance(newId, input) }
        if let waiter = member.joinWaiter {
            waiter.resume(returning: JoinGroupOutcome(error: .fencedInstanceId, memberId: oldId))
            member.joinWaiter = nil
        }
        if let waiter = member.syncWaiter {
            waiter.resume(returning: SyncGroupOutcome(error: .fencedInstanceId))
            member.syncWaiter = nil
        }
        member.heartbeatTimer?.cancel()
        let unchanged = member.matches(input.protocols)
        member.memberId = newId
        member.clientId = input.clientId
        member.clientHost = input.clientHost
        member.supportsSkipAssignment = input.supportsSkipAssignment
        members.removeValue(forKey: oldId)
        members[newId] = member
        memberOrder = memberOrder.map { $0 == oldId ? newId : $0 }
        if let instance = input.groupInstanceId { staticMembers[instance] = newId }
        let wasLeader = leaderId == oldId
        if wasLeader { leaderId = newId }
        scheduleHeartbeatExpiry(newId)
        if state == .stable && unchanged && (!wasLeader || input.supportsSkipAssignment) {
            let generation = generationId
            do {
                try await persist([storedMetadataRecord()])
            } catch {
                return JoinGroupOutcome(error: .coordinatorNotAvailable, memberId: newId)
            }
            guard generationId == generation, members[newId] != nil else {
                return JoinGroupOutcome(error: .rebalanceInProgress, memberId: newId)
            }
            var outcome = currentJoinOutcome(for: newId)
            outcome.skipAssignment = wasLeader
            return outcome
        }
        return await updateMemberAndRebalance(newId, input)
    }

    private func addMemberAndRebalance(_ memberId: String, _ input: JoinGroupInput) async -> JoinGroupOutcome {
        pendingMembers.remove(memberId)
        if protocolType == nil || members.isEmpty { protocolType = input.protocolType }
        addMember(GroupMember(
            memberId: memberId, groupInstanceId: input.groupInstanceId, clientId: input.clientId,
            clientHost: input.clientHost, rebalanceTimeoutMs: input.rebalanceTimeoutMs,
            sessionTimeoutMs: input.sessionTimeoutMs, protocols: input.protocols,
            supportsSkipAssignment: input.supportsSkipAssignment))
        if initialDelay != nil { initialDelay?.newMemberAdded = true }
        return await awaitJoin(memberId)
    }

    private func updateMemberAndRebalance(_ memberId: String, _ input: JoinGroupInput) async -> JoinGroupOutcome {
        guard var member = members[memberId] else { return JoinGroupOutcome(error: .unknownMemberId, memberId: memberId) }
        countProtocols(of: member, by: -1)
        member.protocols = input.protocols
        countProtocols(of: member, by: 1)
        member.rebalanceTimeoutMs = input.rebalanceTimeoutMs
        member.sessionTimeoutMs = input.sessionTimeoutMs
        member.clientId = input.clientId
        member.clientHost = input.clientHost
        member.supportsSkipAssignment = input.supportsSkipAssignment
        if let previous = member.joinWaiter {
            previous.resume(returning: JoinGroupOutcome(error: .rebalanceInProgress, memberId: memberId))
            member.joinWaiter = nil
        }
        members[memberId] = member
        return await awaitJoin(memberId)
    }

    /// Parks the member's JoinGroup until the rebalance completes; starts one when the group can rebalance.
    private func awaitJoin(_ memberId: String) async -> JoinGroupOutcome {
        await withCheckedContinuation { (continuation: CheckedContinuation<JoinGroupOutcome, Never>) in
            members[memberId]?.joinWaiter = continuation
            scheduleHeartbeatExpiry(memberId)
            if state != .preparingRebalance { prepareRebalance() }
            tryCompleteJoin()
        }
    }

    /// The current generation as one member sees it; the leader also gets every member's metadata.
    func currentJoinOutcome(for memberId: String) -> JoinGroupOutcome {
        var outcome = JoinGroupOutcome(
            generationId: generationId, protocolType: protocolType, protocolName: protocolName,
            leaderId: leaderId ?? "", memberId: memberId)
        if memberId == leaderId {
            outcome.members = memberOrder.compactMap { id in
                members[id].map { .init(memberId: id, groupInstanceId: $0.groupInstanceId, metadata: $0.metadata(for: protocolName)) }
            }
        }
        return outcome
    }

    /// Moves the group to PreparingRebalance: parked SyncGroups get REBALANCE_IN_PROGRESS, and the join phase
    /// ends after the initial delay (empty group) or when every member rejoined or the rebalance timeout passed.
    func prepareRebalance() {
        if state == .completingRebalance {
            syncTimer?.cancel()
            for id in memberOrder {
                members[id]?.assignment = ByteBuffer()
                if let waiter = members[id]?.syncWaiter {
                    members[id]?.syncWaiter = nil
                    waiter.resume(returning: SyncGroupOutcome(error: .rebalanceInProgress))
                }
            }
        }
        let wasEmpty = state == .empty
        transition(to: .preparingRebalance)
        joinTimer?.cancel()
        let token = nextToken()
        joinToken = token
        if wasEmpty && config.initialRebalanceDelayMs > 0 {
            let delay = min(config.initialRebalanceDelayMs, max(rebalanceTimeoutMs, 0))
            initialDelay = (max(rebalanceTimeoutMs - delay, 0), false)
            joinTimer = timers.schedule(afterMs: delay) { [weak self] in
                guard let self else { return }
                Task { await self.initialDelayExpired(token: token) }
            }
        } else {
            initialDelay = nil
            joinTimer = timers.schedule(afterMs: rebalanceTimeoutMs) { [weak self] in
                guard let self else { return }
                Task { await self.joinTimedOut(token: token) }
            }
        }
    }

    func initialDelayExpired(token: UInt64) {
        guard token == joinToken, state == .preparingRebalance, let delay = initialDelay else { return }
        if delay.newMemberAdded && delay.remainingMs > 0 {
            let next = min(config.initialRebalanceDelayMs, delay.remainingMs)
            initialDelay = (max(delay.remainingMs - config.initialRebalanceDelayMs, 0), false)
            let token = nextToken()
            joinToken = token
            joinTimer = timers.schedule(afterMs: next) { [weak self] in
                guard let self else { return }
                Task { await self.initialDelayExpired(token: token) }
            }
            return
        }
        initialDelay = nil
        completeJoin()
    }

    func joinTimedOut(token: UInt64) {
        guard token == joinToken, state == .preparingRebalance, initialDelay == nil else { return }
        completeJoin()
    }

    /// Completes the join phase early when every member has rejoined and no pending member is outstanding.
    func tryCompleteJoin() {
        guard state == .preparingRebalance, initialDelay == nil else { return }
        guard pendingMembers.isEmpty, members.values.allSatisfy({ $0.joinWaiter != nil }) else { return }
        completeJoin()
    }

    /// Ends the join phase: members that did not rejoin are removed, the generation advances, the protocol is
    /// chosen and every parked JoinGroup is answered (Kafka's `onCompleteJoin`).
    func completeJoin() {
        guard state == .preparingRebalance else { return }
        joinTimer?.cancel()
        joinTimer = nil
        initialDelay = nil
        for id in memberOrder where members[id]?.joinWaiter == nil {
            removeMember(id)
        }
        if let leader = leaderId, members[leader] == nil { leaderId = memberOrder.first }
        generationId = generationId.nextGroupEpoch
        if members.isEmpty {
            protocolName = nil
            leaderId = nil
            transition(to: .empty)
            let record = storedMetadataRecord()
            persistInBackground([record])
            return
        }
        protocolName = selectProtocol()
        transition(to: .completingRebalance)
        for id in memberOrder {
            guard let waiter = members[id]?.joinWaiter else { continue }
            members[id]?.joinWaiter = nil
            waiter.resume(returning: currentJoinOutcome(for: id))
            scheduleHeartbeatExpiry(id)
        }
        let generation = generationId
        syncTimer?.cancel()
        syncTimer = timers.schedule(afterMs: rebalanceTimeoutMs) { [weak self] in
            guard let self else { return }
            Task { await self.syncTimedOut(generation: generation) }
        }
    }

    /// Members that did not send SyncGroup within the rebalance timeout are removed and the group rebalances.
    func syncTimedOut(generation: Int32) {
        guard state == .completingRebalance, generationId == generation else { return }
        let laggards = memberOrder.filter { members[$0]?.syncWaiter == nil }
        for id in laggards { removeMember(id) }
        prepareRebalance()
        tryCompleteJoin()
    }
}
