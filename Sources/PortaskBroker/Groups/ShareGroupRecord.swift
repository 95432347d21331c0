import KafkaProtocol
import NIOCore

/// The `__consumer_offsets` records of a share group (KIP-932): a thin mapping between the coordinator's model
/// and the generated `ShareGroup*Key`/`Value` record types, which hold Kafka's layouts (keys: an int16 key
/// version and non-flexible fields; values: int16 version 0 and a flexible body, as for `ConsumerGroupRecord`):
///
/// ```
/// 10 member metadata     key: group, member id   value: nullable rackId, clientId, clientHost,
///                                                       [string] subscribedTopicNames
/// 11 group epoch         key: group              value: int32 epoch
/// 12 target epoch        key: group              value: int32 assignmentEpoch
/// 13 target member       key: group, member id   value: [uuid topicId, [int32] partitions]
/// 14 current assignment  key: group, member id   value: int32 memberEpoch, int32 previousMemberEpoch, int8 state,
///                                                       [uuid topicId, [int32] partitions] assigned
/// ```
/// A null value is a tombstone. Encoding throws instead of clamping (see `GroupRecord`). A value type;
/// thread-safe.
enum ShareGroupRecord: Sendable, Equatable {
    struct MemberMetadata: Sendable, Equatable {
        var rackId: String?
        var clientId: String
        var clientHost: String
        var subscribedTopicNames: [String]
    }

    struct CurrentAssignment: Sendable, Equatable {
        var memberEpoch: Int32
        var previousMemberEpoch: Int32
        /// Kafka's member state; share group members are always 1 (stable).
        var state: Int8
        var assigned: [ConsumerGroupRecord.TopicIds]
    }

    case groupEpoch(group: String, epoch: Int32?)
    case member(group: String, memberId: String, MemberMetadata?)
    case targetEpoch(group: String, epoch: Int32?)
    case target(group: String, memberId: String, [ConsumerGroupRecord.TopicIds]?)
    case current(group: String, memberId: String, CurrentAssignment?)

    static let memberKeyVersion: Int16 = 10
    static let epochKeyVersion: Int16 = 11
    static let targetEpochKeyVersion: Int16 = 12
    static let targetMemberKeyVersion: Int16 = 13
    static let currentKeyVersion: Int16 = 14

    var groupId: String {
        switch self {
        case .groupEpoch(let group, _), .targetEpoch(let group, _), .member(let group, _, _),
             .target(let group, _, _), .current(let group, _, _):
            return group
        }
    }

    /// The same record with a null value.
    var tombstone: ShareGroupRecord {
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
            return try GroupRecord.stored(ShareGroupMetadataKey(groupId: group), version: Self.epochKeyVersion)
        case .member(let group, let id, _):
            return try GroupRecord.stored(
                ShareGroupMemberMetadataKey(groupId: group, memberId: id), version: Self.memberKeyVersion)
        case .targetEpoch(let group, _):
            return try GroupRecord.stored(
                ShareGroupTargetAssignmentMetadataKey(groupId: group), version: Self.targetEpochKeyVersion)
        case .target(let group, let id, _):
            return try GroupRecord.stored(
                ShareGroupTargetAssignmentMemberKey(groupId: group, memberId: id), version: Self.targetMemberKeyVersion)
        case .current(let group, let id, _):
            return try GroupRecord.stored(
                ShareGroupCurrentMemberAssignmentKey(groupId: group, memberId: id), version: Self.currentKeyVersion)
        }
    }

    /// The value bytes (version 0), nil for a tombstone. Throws when a string or array does not fit Kafka's layout.
    func value() throws(BrokerError) -> ByteBuffer? {
        switch self {
        case .groupEpoch(_, let epoch?):
            return try GroupRecord.stored(ShareGroupMetadataValue(epoch: epoch), version: 0)
        case .targetEpoch(_, let epoch?):
            return try GroupRecord.stored(ShareGroupTargetAssignmentMetadataValue(assignmentEpoch: epoch), version: 0)
        case .member(_, _, let value?):
            let stored = ShareGroupMemberMetadataValue(
                rackId: value.rackId, clientId: value.clientId, clientHost: value.clientHost,
                subscribedTopicNames: value.subscribedTopicNames)
            return try GroupRecord.stored(stored, version: 0)
        case .target(_, _, let value?):
            let stored = ShareGroupTargetAssignmentMemberValue(topicPartitions: value.map {
                .init(topicId: $0.topicId, partitions: $0.partitions)
            })
            return try GroupRecord.stored(stored, version: 0)
        case .current(_, _, let value?):
            let stored = ShareGroupCurrentMemberAssignmentValue(
                memberEpoch: value.memberEpoch, previousMemberEpoch: value.previousMemberEpoch, state: value.state,
                assignedPartitions: value.assigned.map { .init(topicId: $0.topicId, partitions: $0.partitions) })
            return try GroupRecord.stored(stored, version: 0)
        default:
            return nil
        }
    }

    /// Decodes a share group record whose key version was read from `key`; nil for other key versions.
    init?(keyVersion: Int16, key: inout ByteBuffer, value: ByteBuffer?) throws(BrokerError) {
        switch keyVersion {
        case Self.epochKeyVersion:
            let stored = try GroupRecord.parsedKey(ShareGroupMetadataKey.self, &key, version: keyVersion)
            self = .groupEpoch(group: stored.groupId, epoch: try value.map { (bytes) throws(BrokerError) in
                try GroupRecord.parsed(ShareGroupMetadataValue.self, bytes).epoch
            })
        case Self.memberKeyVersion:
            let stored = try GroupRecord.parsedKey(ShareGroupMemberMetadataKey.self, &key, version: keyVersion)
            self = .member(group: stored.groupId, memberId: stored.memberId, try value.map { (bytes) throws(BrokerError) in
                let member = try GroupRecord.parsed(ShareGroupMemberMetadataValue.self, bytes)
                return MemberMetadata(
                    rackId: member.rackId, clientId: member.clientId, clientHost: member.clientHost,
                    subscribedTopicNames: member.subscribedTopicNames)
            })
        case Self.targetEpochKeyVersion:
            let stored = try GroupRecord.parsedKey(ShareGroupTargetAssignmentMetadataKey.self, &key, version: keyVersion)
            self = .targetEpoch(group: stored.groupId, epoch: try value.map { (bytes) throws(BrokerError) in
                try GroupRecord.parsed(ShareGroupTargetAssignmentMetadataValue.self, bytes).assignmentEpoch
            })
        case Self.targetMemberKeyVersion:
            let stored = try GroupRecord.parsedKey(ShareGroupTargetAssignmentMemberKey.self, &key, version: keyVersion)
            self = .target(group: stored.groupId, memberId: stored.memberId, try value.map { (bytes) throws(BrokerError) in
                try GroupRecord.parsed(ShareGroupTargetAssignmentMemberValue.self, bytes).topicPartitions.map {
                    ConsumerGroupRecord.TopicIds(topicId: $0.topicId, partitions: $0.partitions)
                }
            })
        case Self.currentKeyVersion:
            let stored = try GroupRecord.parsedKey(ShareGroupCurrentMemberAssignmentKey.self, &key, version: keyVersion)
            self = .current(group: stored.groupId, memberId: stored.memberId, try value.map { (bytes) throws(BrokerError) in
                let current = try GroupRecord.parsed(ShareGroupCurrentMemberAssignmentValue.self, bytes)
                return CurrentAssignment(
                    memberEpoch: current.memberEpoch, previousMemberEpoch: current.previousMemberEpoch,
                    state: current.state,
                    assigned: current.assignedPartitions.map {
                        ConsumerGroupRecord.TopicIds(topicId: $0.topicId, partitions: $0.partitions)
                    })
            })
        default:
            return nil
        }
    }
}
