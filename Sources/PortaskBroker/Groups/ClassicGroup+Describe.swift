import KafkaProtocol
import LogEngine
import NIOCore

/// A snapshot of a group for DescribeGroups and ListGroups. A value type; thread-safe.
struct GroupSummary: Sendable {
    struct Member: Sendable {
        var memberId: String
        var groupInstanceId: String?
        var clientId: String
        var clientHost: String
        var metadata: ByteBuffer
        var assignment: ByteBuffer
    }

    var groupId: String
    var state: GroupState
    var protocolType: String
    /// The selected protocol, reported only while the group is Stable (as Kafka does).
    var protocolData: String
    var members: [Member]
}

extension ClassicGroup {
    /// The group as DescribeGroups shows it: member metadata and assignments only when Stable.
    func summary() -> GroupSummary {
        let stable = state == .stable
        return GroupSummary(
            groupId: groupId, state: state, protocolType: protocolType ?? "",
            protocolData: stable ? protocolName ?? "" : "",
            members: memberOrder.compactMap { id in
                members[id].map {
                    .init(
                        memberId: id, groupInstanceId: $0.groupInstanceId, clientId: $0.clientId,
                        clientHost: $0.clientHost, metadata: stable ? $0.metadata(for: protocolName) : ByteBuffer(),
                        assignment: stable ? $0.assignment : ByteBuffer())
                }
            })
    }

    /// The group metadata record value of the current membership.
    func storedMetadata() -> StoredGroup {
        StoredGroup(
            protocolType: protocolType ?? "", generation: generationId, protocolName: protocolName, leader: leaderId,
            stateTimestamp: stateTimestamp,
            members: memberOrder.compactMap { id in
                members[id].map {
                    .init(
                        memberId: id, groupInstanceId: $0.groupInstanceId, clientId: $0.clientId,
                        clientHost: $0.clientHost, rebalanceTimeoutMs: $0.rebalanceTimeoutMs,
                        sessionTimeoutMs: $0.sessionTimeoutMs, subscription: $0.metadata(for: protocolName),
                        assignment: $0.assignment)
                }
            })
    }

    func storedMetadataRecord() -> GroupRecord {
        .metadata(group: groupId, value: storedMetadata())
    }

    /// Restores the group from `__consumer_offsets` at start-up: offsets, and the last stored generation with
    /// its members (Stable, their sessions restarted) or Empty. A stored group larger than `group.max.size`
    /// keeps its first members and rebalances (as Kafka does when it loads such a group); a member id stored
    /// twice is restored once.
    func restore(metadata: StoredGroup?, offsets restored: [TopicPartition: CommittedOffset]) {
        offsets = restored
        guard let metadata else { return }
        protocolType = metadata.protocolType.isEmpty ? nil : metadata.protocolType
        generationId = metadata.generation
        protocolName = metadata.protocolName
        var trimmed = false
        for member in metadata.members where members[member.memberId] == nil {
            guard members.count < config.groupMaxSize else {
                trimmed = true
                break
            }
            addMember(GroupMember(
                memberId: member.memberId, groupInstanceId: member.groupInstanceId, clientId: member.clientId,
                clientHost: member.clientHost, rebalanceTimeoutMs: member.rebalanceTimeoutMs,
                sessionTimeoutMs: member.sessionTimeoutMs,
                protocols: [MemberProtocol(name: metadata.protocolName ?? "", metadata: member.subscription)],
                assignment: member.assignment))
        }
        leaderId = metadata.leader.flatMap { members[$0] != nil ? $0 : nil } ?? memberOrder.first
        transition(to: members.isEmpty ? .empty : .stable)
        if metadata.stateTimestamp > 0 && members.isEmpty { stateTimestamp = metadata.stateTimestamp }
        for id in memberOrder { scheduleHeartbeatExpiry(id) }
        if trimmed { prepareRebalance() }
    }
}
