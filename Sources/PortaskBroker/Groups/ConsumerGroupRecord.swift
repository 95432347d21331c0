import KafkaProtocol
import NIOCore

/// The `__consumer_offsets` records of a `consumer`-protocol group, in Kafka's layouts: keys are an int16 key
/// version and non-flexible fields; values an int16 version 0 and a flexible body (compact strings and arrays,
/// unsigned-varint lengths plus one, an empty tagged-field section after the value and after each struct):
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
        var buffer = ByteBuffer()
        switch self {
        case .groupEpoch(let group, _):
            buffer.writeInteger(Int16(3))
            try buffer.writeKafkaString(group, field: "group")
        case .member(let group, let id, _):
            buffer.writeInteger(Int16(5))
            try buffer.writeKafkaString(group, field: "group")
            try buffer.writeKafkaString(id, field: "memberId")
        case .targetEpoch(let group, _):
            buffer.writeInteger(Int16(6))
            try buffer.writeKafkaString(group, field: "group")
        case .target(let group, let id, _):
            buffer.writeInteger(Int16(7))
            try buffer.writeKafkaString(group, field: "group")
            try buffer.writeKafkaString(id, field: "memberId")
        case .current(let group, let id, _):
            buffer.writeInteger(Int16(8))
            try buffer.writeKafkaString(group, field: "group")
            try buffer.writeKafkaString(id, field: "memberId")
        }
        return buffer
    }

    /// The value bytes, nil for a tombstone. Throws when a string or array does not fit Kafka's layout.
    func value() throws(BrokerError) -> ByteBuffer? {
        var writer = KafkaWriter()
        writer.writeInteger(Int16(0))
        switch self {
        case .groupEpoch(_, let epoch?), .targetEpoch(_, let epoch?):
            writer.writeInteger(epoch)
        case .member(_, _, let value?):
            try writer.writeCompact(value.instanceId, field: "instanceId")
            try writer.writeCompact(value.rackId, field: "rackId")
            try writer.writeCompact(value.clientId, field: "clientId")
            try writer.writeCompact(value.clientHost, field: "clientHost")
            try writer.writeCompactCount(value.subscribedTopicNames.count, field: "subscribedTopicNames")
            for name in value.subscribedTopicNames { try writer.writeCompact(name, field: "subscribedTopicNames") }
            try writer.writeCompact(value.subscribedTopicRegex, field: "subscribedTopicRegex")
            writer.writeInteger(value.rebalanceTimeoutMs)
            try writer.writeCompact(value.serverAssignor, field: "serverAssignor")
        case .target(_, _, let value?):
            try writer.writeTopicIds(value)
        case .current(_, _, let value?):
            writer.writeInteger(value.memberEpoch)
            writer.writeInteger(value.previousMemberEpoch)
            writer.writeInteger(value.state)
            try writer.writeTopicIds(value.assigned)
            try writer.writeTopicIds(value.pendingRevocation)
        default:
            return nil
        }
        writer.writeUnsignedVarint(0)  // tagged fields
        return writer.buffer
    }

    /// Decodes a consumer group record; nil for other key versions.
    init?(keyVersion: Int16, key: inout ByteBuffer, value: ByteBuffer?) throws {
        let group = try key.readGroupString()
        var reader = value
        if var body = reader {
            let version = try body.readGroupInteger(Int16.self)
            guard version == 0 else { throw GroupRecord.malformed("consumer group value version \(version)") }
            reader = body
        }
        switch keyVersion {
        case 3:
            self = .groupEpoch(group: group, epoch: try reader.map { var body = $0; return try body.readGroupInteger(Int32.self) })
        case 6:
            self = .targetEpoch(group: group, epoch: try reader.map { var body = $0; return try body.readGroupInteger(Int32.self) })
        case 5:
            let id = try key.readGroupString()
            self = .member(group: group, memberId: id, try reader.map { bytes in
                var body = bytes
                return MemberMetadata(
                    instanceId: try body.readCompactString(), rackId: try body.readCompactString(),
                    clientId: try body.readCompactString() ?? "", clientHost: try body.readCompactString() ?? "",
                    subscribedTopicNames: try body.readCompactArray { try $0.readCompactString() ?? "" },
                    subscribedTopicRegex: try body.readCompactString(),
                    rebalanceTimeoutMs: try body.readGroupInteger(Int32.self),
                    serverAssignor: try body.readCompactString())
            })
        case 7:
            let id = try key.readGroupString()
            self = .target(group: group, memberId: id, try reader.map { bytes in
                var body = bytes
                return try body.readTopicIds()
            })
        case 8:
            let id = try key.readGroupString()
            self = .current(group: group, memberId: id, try reader.map { bytes in
                var body = bytes
                return CurrentAssignment(
                    memberEpoch: try body.readGroupInteger(Int32.self),
                    previousMemberEpoch: try body.readGroupInteger(Int32.self),
                    state: try body.readGroupInteger(Int8.self), assigned: try body.readTopicIds(),
                    pendingRevocation: try body.readTopicIds())
            })
        default:
            return nil
        }
    }
}

extension KafkaWriter {
    /// A compact string (length + 1 as an unsigned varint, 0 for nil); throws past Kafka's int16 string limit.
    mutating func writeCompact(_ value: String?, field: String) throws(BrokerError) {
        guard let value else {
            writeUnsignedVarint(0)
            return
        }
        guard GroupRecord.fits(value) else {
            throw GroupRecord.unstorable(field, "\(value.utf8.count) bytes exceed \(GroupRecord.maxStringBytes)")
        }
        writeUnsignedVarint(UInt32(value.utf8.count + 1))
        buffer.writeString(value)
    }

    /// A compact array's count (count + 1 as an unsigned varint); throws past Kafka's int32 array limit.
    mutating func writeCompactCount(_ count: Int, field: String) throws(BrokerError) {
        guard count < Int(Int32.max) else { throw GroupRecord.unstorable(field, "\(count) elements") }
        writeUnsignedVarint(UInt32(count + 1))
    }

    mutating func writeTopicIds(_ topics: [ConsumerGroupRecord.TopicIds]) throws(BrokerError) {
        try writeCompactCount(topics.count, field: "topics")
        for topic in topics {
            writeUUID(topic.topicId)
            try writeCompactCount(topic.partitions.count, field: "partitions")
            for partition in topic.partitions { writeInteger(partition) }
            writeUnsignedVarint(0)  // tagged fields of the struct
        }
    }
}

extension ByteBuffer {
    mutating func readGroupUnsignedVarint() throws -> UInt32 {
        var result: UInt32 = 0
        var shift: UInt32 = 0
        while shift < 35 {
            guard let byte = readInteger(as: UInt8.self) else { throw GroupRecord.malformed("truncated varint") }
            result |= UInt32(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
        throw GroupRecord.malformed("varint too long")
    }

    mutating func readCompactString() throws -> String? {
        let length = try readGroupUnsignedVarint()
        if length == 0 { return nil }
        guard let value = readString(length: Int(length - 1)) else { throw GroupRecord.malformed("truncated string") }
        return value
    }

    mutating func readCompactArray<T>(_ element: (inout ByteBuffer) throws -> T) throws -> [T] {
        let count = try readGroupUnsignedVarint()
        guard count > 0 else { return [] }
        guard Int(count - 1) <= readableBytes else { throw GroupRecord.malformed("array count \(count)") }
        return try (0..<Int(count - 1)).map { _ in try element(&self) }
    }

    /// Skips a tagged-field section.
    mutating func skipTaggedFields() throws {
        let count = try readGroupUnsignedVarint()
        for _ in 0..<count {
            _ = try readGroupUnsignedVarint()
            let size = try readGroupUnsignedVarint()
            guard readSlice(length: Int(size)) != nil else { throw GroupRecord.malformed("truncated tagged field") }
        }
    }

    mutating func readTopicIds() throws -> [ConsumerGroupRecord.TopicIds] {
        try readCompactArray { buffer in
            let high = try buffer.readGroupInteger(UInt64.self)
            let low = try buffer.readGroupInteger(UInt64.self)
            let topic = ConsumerGroupRecord.TopicIds(
                topicId: KafkaUUID(high: high, low: low),
                partitions: try buffer.readCompactArray { try $0.readGroupInteger(Int32.self) })
            try buffer.skipTaggedFields()
            return topic
        }
    }
}
