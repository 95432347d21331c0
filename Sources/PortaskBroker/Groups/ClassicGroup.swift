import Foundation
import KafkaProtocol
import LogEngine
import NIOCore

/// One consumer group under the classic protocol (JoinGroup/SyncGroup/Heartbeat/LeaveGroup) and its committed
/// offsets, following Kafka's group coordinator:
///
/// ```
/// Empty ──join──▶ PreparingRebalance ──all joined / rebalance timeout──▶ CompletingRebalance ──leader sync──▶ Stable
///   ▲                 ▲    │ (no member left)                                   │ member joins/leaves/expires │
///   └─────────────────┼────┘                                                    ▼                             │
///                     └──────────────────────────────────────────────────────────────────────────────────────┘
/// Empty ──delete / offsets expired──▶ Dead
/// ```
/// Thread-safety: an actor; every state change runs on it. Parked JoinGroup and SyncGroup requests are
/// continuations held in the members and resumed exactly once. Timeouts run through `GroupTimers`; each timer
/// carries a token so a stale firing does nothing.
actor ClassicGroup {
    let groupId: String
    let config: GroupCoordinatorConfig
    let timers: GroupTimers
    let store: GroupStore

    var state: GroupState = .empty
    /// When the group entered its current state (ms); the base of offset expiry for empty groups.
    var stateTimestamp: Int64
    var protocolType: String?
    var protocolName: String?
    var generationId: Int32 = 0
    var leaderId: String?
    var members: [String: GroupMember] = [:]
    /// Member ids in join order (Kafka keeps members in insertion order; leader choice and listings use it).
    var memberOrder: [String] = []
    var staticMembers: [String: String] = [:]
    /// Dynamic members told MEMBER_ID_REQUIRED that have not joined with their id yet.
    var pendingMembers: Set<String> = []
    var offsets: [TopicPartition: CommittedOffset] = [:]
    /// Protocol name → how many members support it (Kafka's `supportedProtocols`), so protocol checks cost the
    /// joining member's protocol count, not members × protocols.
    var protocolCounts: [String: Int] = [:]

    var joinTimer: GroupTimer?
    var syncTimer: GroupTimer?
    /// While the first rebalance of an empty group waits (`group.initial.rebalance.delay.ms`): the rebalance
    /// time left and whether a member joined during the current delay.
    var initialDelay: (remainingMs: Int64, newMemberAdded: Bool)?
    var timerToken: UInt64 = 0
    /// The token of the current join-phase timer.
    var joinToken: UInt64 = 0
    /// The last write to the store; every write waits for the one before, so the group's records reach
    /// `__consumer_offsets` in the order the group produced them.
    var lastWrite: Task<Void, any Error>?

    init(groupId: String, config: GroupCoordinatorConfig, timers: GroupTimers, store: GroupStore) {
        self.groupId = groupId
        self.config = config
        self.timers = timers
        self.store = store
        stateTimestamp = timers.nowMs()
    }

    // MARK: state helpers

    func transition(to next: GroupState) {
        state = next
        stateTimestamp = timers.nowMs()
    }

    func nextToken() -> UInt64 {
        timerToken &+= 1
        return timerToken
    }

    var isEmpty: Bool { members.isEmpty }

    /// The largest rebalance timeout of the members (Kafka's group rebalance timeout).
    var rebalanceTimeoutMs: Int64 {
        Int64(members.values.map(\.rebalanceTimeoutMs).max() ?? 0)
    }

    func isStaticMemberFenced(memberId: String, groupInstanceId: String?) -> Bool {
        guard let groupInstanceId, let current = staticMembers[groupInstanceId] else { return false }
        return current != memberId
    }

    /// Whether a member with `protocolType` and `protocols` may join (Kafka's `supportsProtocols`).
    func supportsProtocols(_ type: String, _ names: [String]) -> Bool {
        if members.isEmpty { return !type.isEmpty && !names.isEmpty }
        guard type == protocolType else { return false }
        return names.contains { protocolCounts[$0] == members.count }
    }

    /// Counts `member`'s distinct protocol names in (`by` 1) or out (`by` -1) of `protocolCounts`.
    func countProtocols(of member: GroupMember, by delta: Int) {
        for name in Set(member.protocols.map(\.name)) {
            let count = (protocolCounts[name] ?? 0) + delta
            protocolCounts[name] = count > 0 ? count : nil
        }
    }

    /// The protocol every member supports that most members prefer (ties go to the first member's order).
    func selectProtocol() -> String? {
        guard let first = memberOrder.first.flatMap({ members[$0] }) else { return nil }
        let candidates = first.protocols.map(\.name).filter { protocolCounts[$0] == members.count }
        let eligible = Set(candidates)
        var votes: [String: Int] = [:]
        for member in members.values {
            if let choice = member.protocols.first(where: { eligible.contains($0.name) }) {
                votes[choice.name, default: 0] += 1
            }
        }
        var best: (name: String, votes: Int)?
        for name in candidates where (votes[name] ?? 0) > (best?.votes ?? -1) {
            best = (name, votes[name] ?? 0)
        }
        return best?.name
    }

    func addMember(_ member: GroupMember) {
        if let replaced = members[member.memberId] { countProtocols(of: replaced, by: -1) }
        countProtocols(of: member, by: 1)
        members[member.memberId] = member
        memberOrder.append(member.memberId)
        if let instance = member.groupInstanceId { staticMembers[instance] = member.memberId }
        if leaderId == nil { leaderId = member.memberId }
    }

    func removeMember(_ memberId: String) {
        guard let member = members.removeValue(forKey: memberId) else { return }
        countProtocols(of: member, by: -1)
        member.heartbeatTimer?.cancel()
        memberOrder.removeAll { $0 == memberId }
        if let instance = member.groupInstanceId, staticMembers[instance] == memberId {
            staticMembers.removeValue(forKey: instance)
        }
        if leaderId == memberId {
            leaderId = memberOrder.first { members[$0]?.joinWaiter != nil } ?? memberOrder.first
        }
    }

    // MARK: persistence

    /// Writes `records` after every earlier write of this group and returns once they are durable.
    func persist(_ records: [GroupRecord]) async throws {
        try await enqueueWrite(records).value
    }

    /// Writes `records` in order with the group's other writes without waiting for them.
    func persistInBackground(_ records: [GroupRecord]) {
        _ = enqueueWrite(records)
    }

    private func enqueueWrite(_ records: [GroupRecord]) -> Task<Void, any Error> {
        let previous = lastWrite
        let store = store
        let groupId = groupId
        let write = Task {
            _ = await previous?.result
            try await store.append(records, groupId: groupId)
        }
        lastWrite = write
        return write
    }

    /// Broker shutdown: parked JoinGroup and SyncGroup requests get NOT_COORDINATOR (clients look the
    /// coordinator up again) and every timer is cancelled.
    func shutdown() {
        joinTimer?.cancel()
        syncTimer?.cancel()
        for id in memberOrder {
            members[id]?.heartbeatTimer?.cancel()
            if let waiter = members[id]?.joinWaiter {
                members[id]?.joinWaiter = nil
                waiter.resume(returning: JoinGroupOutcome(error: .notCoordinator, memberId: id))
            }
            if let waiter = members[id]?.syncWaiter {
                members[id]?.syncWaiter = nil
                waiter.resume(returning: SyncGroupOutcome(error: .notCoordinator))
            }
        }
    }

    // MARK: heartbeats

    /// Restarts the member's session timer (Kafka's `completeAndScheduleNextHeartbeatExpiration`).
    func scheduleHeartbeatExpiry(_ memberId: String) {
        guard var member = members[memberId] else { return }
        member.heartbeatTimer?.cancel()
        let token = nextToken()
        member.heartbeatToken = token
        member.heartbeatTimer = timers.schedule(afterMs: Int64(member.sessionTimeoutMs)) { [weak self] in
            guard let self else { return }
            Task { await self.heartbeatExpired(memberId, token: token) }
        }
        members[memberId] = member
    }

    func heartbeatExpired(_ memberId: String, token: UInt64) {
        guard let member = members[memberId], member.heartbeatToken == token else { return }
        if member.joinWaiter != nil || member.syncWaiter != nil {
            scheduleHeartbeatExpiry(memberId)
            return
        }
        removeMemberAndUpdateGroup(memberId)
    }

    /// Removes a member (leave, session expiry) and rebalances or completes the pending join as Kafka does.
    func removeMemberAndUpdateGroup(_ memberId: String) {
        if let waiter = members[memberId]?.joinWaiter {
            members[memberId]?.joinWaiter = nil
            waiter.resume(returning: JoinGroupOutcome(error: .unknownMemberId, memberId: memberId))
        }
        if let waiter = members[memberId]?.syncWaiter {
            members[memberId]?.syncWaiter = nil
            waiter.resume(returning: SyncGroupOutcome(error: .unknownMemberId))
        }
        removeMember(memberId)
        switch state {
        case .dead, .empty:
            break
        case .stable, .completingRebalance:
            prepareRebalance()
            tryCompleteJoin()
        case .preparingRebalance:
            tryCompleteJoin()
        }
    }
}
