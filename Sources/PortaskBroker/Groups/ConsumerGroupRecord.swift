import KafkaProtocol
import NIOCore

/// The `__consumer_offsets` records of a `consumer`-protocol group: a thin mapping between the coordinator's model
/// and the generated `ConsumerGroup*Key`/`Value` record types, which hold Kafka's layouts: keys are an int16 key
/// version and non-flexible fields; values an int16 version 0 and a flexible body (compact strings and arrays,
/// unsigned-varint lengths plus one, a tagged-field section after the value and after each struct):
///
/// ```
/// 3 group epoch          key: group                 value: int32 epoch
/// 5 member metadata      key: group, member id      value: nullable instanceId, nullable rackId, clientId,
///                                                          clientHost, [string] subscribedTopicNames,
///                                                          nullable subscribedTopicRegex, int32 rebalanceTimeoutMs,
///                                                          nullable serverAssignor
/// 6 target epoch         key: group                 value: int32 assignmentEpoch
/// 7 target member        key: group, member id      value: [uuid topicId, [int32] partitions]
/// 8 current assignment   key: group, member id      value: int32 memberEpoch, int32 previousMemberEpoch, int8 state,
///                                                          [uuid, [int32]] assigned, [uuid, [int32]] pendingRevocation
/// ```
/// A null value is a tombstone. Encoding throws instead of clamping (see `GroupRecord`). A value type;
/// thread-safe.
enum ConsumerGroupRecord: Sendable, Equatable {
    struct MemberMetadata: Sendable, Equatable {
        var instanceId: String?
        var rackId: String?
        var clientId: String
        var clientHost: String
        var subscribedTopicNames: [String]
        var subscribedTopicRegex: String?
        var rebalanceTimeoutMs: Int32
        var serverAssignor: String?
    }

    struct CurrentAssignment: Sendable, Equatable {
        var memberEpoch: Int32
        var previousMemberEpoch: Int32
        /// Kafka's member state: 1 stable, 2 unrevoked partitions, 3 unreleased partitions.
        var state: Int8
        var assigned: [TopicIds]
        var pendingRevocation: [TopicIds]
    }

    /// Partitions of one topic, by topic id.
    struct TopicIds: Sendable, Equatable {
        var topicId: KafkaUUID
        var partitions: [Int32]
    }

    case groupEpoch(group: String, epoch: Int32?)
    case member(group: String, memberId: String, MemberMetadata?)
    case targetEpoch(group: String, epoch: Int32?)
    case target(group: String, memberId: String, [TopicIds]?)
    case current(group: String, memberId: String, CurrentAssignment?)

    var groupId: String {
        switch self {
        case .groupEpoch(let group, _), .targetEpoch(let group, _), .member(let group, _, _),
             .target(let group, _, _), .current(let group, _, _):
            return group
        }
    }

    /// The same record with a null value.
    var tombstone: ConsumerGroupRecord {
        switch self {
        case .groupEpoch(let group, _): return .groupEpoch(group: group, epoch: nil)
        case .targetEpoch(let group, _): return .targetEpoch(group: group, epoch: nil)
        case .member(let group, let id, _): return .member(group: group, memberId: id, nil)
        case .target(let group, let id, _): return .target(group: group, memberId: id, nil)
        case .current(let group, let id, _): return .current(group: group, memberId: id, nil)
        }
    }

    /// A name for the record's key, unique within the group.
    var keyName: String {
        switch self {
        case .groupEpoch: return "epoch"
        case .targetEpoch: return "target-epoch"
        case .member(_, let id, _): return "member:" + id
        case .target(_, let id, _): return "target:" + id
        case .current(_, let id, _): return "current:" + id
        }
    }

    /// Whether the value is null (a deletion).
    var isTombstone: Bool {
        switch self {
        case .groupEpoch(_, let epoch), .targetEpoch(_, let epoch): return epoch == nil
        case .member(_, _, let value): return value == nil
        case .target(_, _, let value): return value == nil
        case .current(_, _, let value): return value == nil
        }
    }

    /// The key bytes. Throws when a string does not fit Kafka's int16 string length.
    func key() throws(BrokerError) -> ByteBuffer {
        switch self {
        case .groupEpoch(let group, _):
            return try GroupRecord.stored(ConsumerGroupMetadataKey(groupId: group), version: 3)
        case .member(let group, let id, _):
            return try GroupRecord.stored(ConsumerGroupMemberMetadataKey(groupId: group, memberId: id), version: 5)
        case .targetEpoch(let group, _):
            return try GroupRecord.stored(ConsumerGroupTargetAssignmentMetadataKey(groupId: group), version: 6)
        case .target(let group, let id, _):
            return try GroupRecord.stored(ConsumerGroupTargetAssignmentMemberKey(groupId: group, memberId: id), version: 7)
        case .current(let group, let id, _):
            return try GroupRecord.stored(ConsumerGroupCurrentMemberAssignmentKey(groupId: group, memberId: id), version: 8)
        }
    }

    /// The value bytes (version 0), nil for a tombstone. Throws when a string or array does not fit Kafka's layout.
    func value() throws(BrokerError) -> ByteBuffer? {
        switch self {
        case .groupEpoch(_, let epoch?):
            return try GroupRecord.stored(ConsumerGroupMetadataValue(epoch: epoch), version: 0)
        case .targetEpoch(_, let epoch?):
            return try GroupRecord.stored(ConsumerGroupTargetAssignmentMetadataValue(assignmentEpoch: epoch), version: 0)
        case .member(_, _, let value?):
            let stored = ConsumerGroupMemberMetadataValue(
                instanceId: value.instanceId, rackId: value.rackId, clientId: value.clientId,
                clientHost: value.clientHost, subscribedTopicNames: value.subscribedTopicNames,
                subscribedTopicRegex: value.subscribedTopicRegex, rebalanceTimeoutMs: value.rebalanceTimeoutMs,
                serverAssignor: value.serverAssignor)
            return try GroupRecord.stored(stored, version: 0)
        case .target(_, _, let value?):
            let stored = ConsumerGroupTargetAssignmentMemberValue(topicPartitions: value.map {
                .init(topicId: $0.topicId, partitions: $0.partitions)
            })
            return try GroupRecord.stored(stored, version: 0)
        case .current(_, _, let value?):
            let stored = ConsumerGroupCurrentMemberAssignmentValue(
                memberEpoch: value.memberEpoch, previousMemberEpoch: value.previousMemberEpoch, state: value.state,
                assignedPartitions: value.assigned.map { .init(topicId: $0.topicId, partitions: $0.partitions) },
                partitionsPendingRevocation: value.pendingRevocation.map {
                    .init(topicId: $0.topicId, partitions: $0.partitions)
                })
            return try GroupRecord.stored(stored, version: 0)
        default:
            return nil
        }
    }

    /// Decodes a consumer group record whose key version was read from `key`; nil for other key versions.
    init?(keyVersion: Int16, key: inout ByteBuffer, value: ByteBuffer?) throws(BrokerError) {
        switch keyVersion {
        case 3:
            let stored = try GroupRecord.parsedKey(ConsumerGroupMetadataKey.self, &key, version: keyVersion)
            self = .groupEpoch(group: stored.groupId, epoch: try value.map { (bytes) throws(BrokerError) in
                try GroupRecord.parsed(ConsumerGroupMetadataValue.self, bytes).epoch
            })
        case 5:
            let stored = try GroupRecord.parsedKey(ConsumerGroupMemberMetadataKey.self, &key, version: keyVersion)
            self = .member(group: stored.groupId, memberId: stored.memberId, try value.map { (bytes) throws(BrokerError) in
                let member = try GroupRecord.parsed(ConsumerGroupMemberMetadataValue.self, bytes)
                return MemberMetadata(
                    instanceId: member.instanceId, rackId: member.rackId, clientId: member.clientId,
                    clientHost: member.clientHost, subscribedTopicNames: member.subscribedTopicNames,
                    subscribedTopicRegex: member.subscribedTopicRegex, rebalanceTimeoutMs: member.rebalanceTimeoutMs,
                    serverAssignor: member.serverAssignor)
            })
        case 6:
            let stored = try GroupRecord.parsedKey(ConsumerGroupTargetAssignmentMetadataKey.self, &key, version: keyVersion)
            self = .targetEpoch(group: stored.groupId, epoch: try value.map { (bytes) throws(BrokerError) in
                try GroupRecord.parsed(ConsumerGroupTargetAssignmentMetadataValue.self, bytes).assignmentEpoch
            })
        case 7:
            let stored = try GroupRecord.parsedKey(ConsumerGroupTargetAssignmentMemberKey.self, &key, version: keyVersion)
            self = .target(group: stored.groupId, memberId: stored.memberId, try value.map { (bytes) throws(BrokerError) in
                try GroupRecord.parsed(ConsumerGroupTargetAssignmentMemberValue.self, bytes).topicPartitions.map {
                    TopicIds(topicId: $0.topicId, partitions: $0.partitions)
                }
            })
        case 8:
            let stored = try GroupRecord.parsedKey(ConsumerGroupCurrentMemberAssignmentKey.self, &key, version: keyVersion)
            self = .current(group: stored.groupId, memberId: stored.memberId, try value.map { (bytes) throws(BrokerError) in
                let current = try GroupRecord.parsed(ConsumerGroupCurrentMemberAssignmentValue.self, bytes)
                return CurrentAssignment(
                    memberEpoch: current.memberEpoch, previousMemberEpoch: current.previousMemberEpoch,
                    state: current.state,
                    assigned: current.assignedPartitions.map { TopicIds(topicId: $0.topicId, partitions: $0.partitions) },
                    pendingRevocation: current.partitionsPendingRevocation.map {
                        TopicIds(topicId: $0.topicId, partitions: $0.partitions)
                    })
            })
        default:
            return nil
        }
    }
}
