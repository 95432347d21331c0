import KafkaProtocol
import LogEngine
import NIOCore

/// One record of `__consumer_offsets`, in Kafka's key/value layouts (all integers big-endian, strings as
/// int16 length + UTF-8, nullable strings with length -1, bytes as int32 length + data):
///
/// ```
/// offset commit   key   (version 1): int16 1, string group, string topic, int32 partition
///                 value (version 3): int16 3, int64 offset, int32 leaderEpoch, string metadata,
///                                    int64 commitTimestamp
/// group metadata  key   (version 2): int16 2, string group
///                 value (version 3): int16 3, string protocolType, int32 generation, nullable string protocol,
///                                    nullable string leader, int64 currentStateTimestamp,
///                                    int32 count, per member: string memberId, nullable string groupInstanceId,
///                                    string clientId, string clientHost, int32 rebalanceTimeout,
///                                    int32 sessionTimeout, bytes subscription, bytes assignment
/// ```
/// A null value is a tombstone (the offset or group was deleted). Decoding also reads offset commit values
/// v0–v3 and group metadata values v0–v3 as Kafka wrote them. Encoding never clamps: a string longer than
/// `maxStringBytes` (Kafka's int16 string limit) or a count that does not fit its field makes `key()` or
/// `value()` throw, so such a record is never written (callers refuse it earlier with Kafka's error).
/// A value type; thread-safe.
enum GroupRecord: Sendable, Equatable {
    case offset(group: String, partition: TopicPartition, value: CommittedOffset?)
    case metadata(group: String, value: StoredGroup?)
    /// A record of a `consumer`-protocol group (key versions 3, 5, 6, 7, 8).
    case consumer(ConsumerGroupRecord)

    /// The longest string Kafka's record schemas can hold (int16 length; Kafka's generated writers refuse more,
    /// for compact strings too).
    static let maxStringBytes = Int(Int16.max)

    /// Whether `value` fits a string field of Kafka's record schemas.
    static func fits(_ value: String?) -> Bool {
        (value?.utf8.count ?? 0) <= maxStringBytes
    }

    var groupId: String {
        switch self {
        case .offset(let group, _, _), .metadata(let group, _): return group
        case .consumer(let record): return record.groupId
        }
    }

    /// Whether the value is null (a deletion).
    var isTombstone: Bool {
        switch self {
        case .offset(_, _, let value): return value == nil
        case .metadata(_, let value): return value == nil
        case .consumer(let record): return record.isTombstone
        }
    }

    /// The record's key bytes. Throws when a field does not fit Kafka's layout.
    func key() throws(BrokerError) -> ByteBuffer {
        var buffer = ByteBuffer()
        switch self {
        case .offset(let group, let partition, _):
            buffer.writeInteger(Int16(1))
            try buffer.writeKafkaString(group, field: "group")
            try buffer.writeKafkaString(partition.topic, field: "topic")
            buffer.writeInteger(partition.partition)
        case .metadata(let group, _):
            buffer.writeInteger(Int16(2))
            try buffer.writeKafkaString(group, field: "group")
        case .consumer(let record):
            return try record.key()
        }
        return buffer
    }

    /// The record's value bytes, nil for a tombstone. Throws when a field does not fit Kafka's layout.
    func value() throws(BrokerError) -> ByteBuffer? {
        switch self {
        case .offset(_, _, let value):
            guard let value else { return nil }
            var buffer = ByteBuffer()
            buffer.writeInteger(Int16(3))
            buffer.writeInteger(value.offset)
            buffer.writeInteger(value.leaderEpoch)
            try buffer.writeKafkaString(value.metadata, field: "metadata")
            buffer.writeInteger(value.commitTimestamp)
            return buffer
        case .metadata(_, let value):
            guard let value else { return nil }
            var buffer = ByteBuffer()
            buffer.writeInteger(Int16(3))
            try buffer.writeKafkaString(value.protocolType, field: "protocolType")
            buffer.writeInteger(value.generation)
            try buffer.writeKafkaString(value.protocolName, field: "protocol")
            try buffer.writeKafkaString(value.leader, field: "leader")
            buffer.writeInteger(value.stateTimestamp)
            buffer.writeInteger(try Self.int32(value.members.count, field: "members"))
            for member in value.members {
                try buffer.writeKafkaString(member.memberId, field: "memberId")
                try buffer.writeKafkaString(member.groupInstanceId, field: "groupInstanceId")
                try buffer.writeKafkaString(member.clientId, field: "clientId")
                try buffer.writeKafkaString(member.clientHost, field: "clientHost")
                buffer.writeInteger(member.rebalanceTimeoutMs)
                buffer.writeInteger(member.sessionTimeoutMs)
                buffer.writeInteger(try Self.int32(member.subscription.readableBytes, field: "subscription"))
                buffer.writeImmutableBuffer(member.subscription)
                buffer.writeInteger(try Self.int32(member.assignment.readableBytes, field: "assignment"))
                buffer.writeImmutableBuffer(member.assignment)
            }
            return buffer
        case .consumer(let record):
            return try record.value()
        }
    }

    static func int32(_ value: Int, field: String) throws(BrokerError) -> Int32 {
        guard let narrow = Int32(exactly: value) else { throw unstorable(field, "\(value) does not fit an int32") }
        return narrow
    }

    /// The answer to a request whose records could not be written, as Kafka's coordinator maps append errors:
    /// a batch larger than `__consumer_offsets` takes (`max.message.bytes`) is INVALID_COMMIT_OFFSET_SIZE for an
    /// offset commit and UNKNOWN_SERVER_ERROR otherwise, as is a record that could not be encoded (retrying
    /// cannot help either); anything else is COORDINATOR_NOT_AVAILABLE (the log could not take it now; clients
    /// retry).
    static func errorCode(forWriteFailure error: any Error, commit: Bool = false) -> KafkaErrorCode {
        if (error as? LogEngineError)?.code == .recordTooLarge { return commit ? .invalidCommitOffsetSize : .unknownServerError }
        return (error as? BrokerError)?.code == .invalidRequest ? .unknownServerError : .coordinatorNotAvailable
    }

    static func unstorable(_ field: String, _ why: String) -> BrokerError {
        BrokerError(.invalidRequest, "cannot store \(field) in \(OffsetsTopic.name)", context: why)
    }

    /// Decodes a record of `__consumer_offsets`; nil for key versions this broker does not know (Kafka's newer
    /// record types), which are skipped.
    init?(key: ByteBuffer, value: ByteBuffer?) throws {
        var key = key
        let keyVersion = try key.readGroupInteger(Int16.self)
        switch keyVersion {
        case 0, 1:
            let group = try key.readGroupString()
            let topic = try key.readGroupString()
            let partition = try key.readGroupInteger(Int32.self)
            self = .offset(
                group: group, partition: TopicPartition(topic, partition),
                value: try value.map { try Self.decodeOffset($0) })
        case 2:
            let group = try key.readGroupString()
            self = .metadata(group: group, value: try value.map { try Self.decodeGroup($0) })
        default:
            guard let record = try ConsumerGroupRecord(keyVersion: keyVersion, key: &key, value: value) else { return nil }
            self = .consumer(record)
        }
    }

    private static func decodeOffset(_ bytes: ByteBuffer) throws -> CommittedOffset {
        var value = bytes
        let version = try value.readGroupInteger(Int16.self)
        guard (0...4).contains(version) else { throw Self.malformed("offset commit value version \(version)") }
        guard version < 4 else { throw Self.malformed("flexible offset commit values are not read") }
        let offset = try value.readGroupInteger(Int64.self)
        let epoch = version >= 3 ? try value.readGroupInteger(Int32.self) : -1
        let metadata = try value.readGroupString()
        let timestamp = try value.readGroupInteger(Int64.self)
        let expire = version == 1 ? try value.readGroupInteger(Int64.self) : -1
        return CommittedOffset(
            offset: offset, leaderEpoch: epoch, metadata: metadata, commitTimestamp: timestamp,
            expireTimestamp: expire >= 0 ? expire : nil)
    }

    private static func decodeGroup(_ bytes: ByteBuffer) throws -> StoredGroup {
        var value = bytes
        let version = try value.readGroupInteger(Int16.self)
        guard (0...3).contains(version) else { throw Self.malformed("group metadata value version \(version)") }
        var group = StoredGroup(
            protocolType: try value.readGroupString(), generation: try value.readGroupInteger(Int32.self),
            protocolName: try value.readGroupNullableString(), leader: try value.readGroupNullableString())
        if version >= 2 { group.stateTimestamp = try value.readGroupInteger(Int64.self) }
        let count = try value.readGroupInteger(Int32.self)
        guard count >= 0, Int(count) <= value.readableBytes else { throw Self.malformed("member count \(count)") }
        for _ in 0..<count {
            let memberId = try value.readGroupString()
            let instance = version >= 3 ? try value.readGroupNullableString() : nil
            let clientId = try value.readGroupString()
            let host = try value.readGroupString()
            let rebalance = version >= 1 ? try value.readGroupInteger(Int32.self) : -1
            let session = try value.readGroupInteger(Int32.self)
            let subscription = try value.readGroupBytes()
            let assignment = try value.readGroupBytes()
            group.members.append(.init(
                memberId: memberId, groupInstanceId: instance, clientId: clientId, clientHost: host,
                rebalanceTimeoutMs: rebalance >= 0 ? rebalance : session, sessionTimeoutMs: session,
                subscription: subscription, assignment: assignment))
        }
        return group
    }

    static func malformed(_ what: String) -> BrokerError {
        BrokerError(.io, "malformed __consumer_offsets record", context: what)
    }
}

extension ByteBuffer {
    /// An int16-length string (-1 for nil); throws rather than clamp when it is longer than Kafka allows.
    mutating func writeKafkaString(_ value: String?, field: String) throws(BrokerError) {
        guard let value else {
            writeInteger(Int16(-1))
            return
        }
        guard let length = Int16(exactly: value.utf8.count) else {
            throw GroupRecord.unstorable(field, "\(value.utf8.count) bytes exceed \(GroupRecord.maxStringBytes)")
        }
        writeInteger(length)
        writeString(value)
    }

    mutating func readGroupInteger<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        guard let value = readInteger(as: T.self) else { throw GroupRecord.malformed("truncated integer") }
        return value
    }

    mutating func readGroupNullableString() throws -> String? {
        let length = try readGroupInteger(Int16.self)
        if length < 0 { return nil }
        guard let value = readString(length: Int(length)) else { throw GroupRecord.malformed("truncated string") }
        return value
    }

    mutating func readGroupString() throws -> String {
        guard let value = try readGroupNullableString() else { throw GroupRecord.malformed("null string") }
        return value
    }

    mutating func readGroupBytes() throws -> ByteBuffer {
        let length = try readGroupInteger(Int32.self)
        guard length >= 0, let value = readSlice(length: Int(length)) else {
            throw GroupRecord.malformed("truncated bytes")
        }
        return value
    }
}
