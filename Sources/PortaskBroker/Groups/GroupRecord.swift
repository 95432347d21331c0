import KafkaProtocol
import LogEngine
import NIOCore

/// One record of `__consumer_offsets`: a thin mapping between the coordinator's model and the generated record
/// types (``OffsetCommitKey``/``OffsetCommitValue``, ``GroupMetadataKey``/``GroupMetadataValue``,
/// ``ConsumerGroupRecord`` for the `consumer`-protocol ones, ``ShareGroupRecord`` for share groups), which hold Kafka's layouts (all integers big-endian,
/// strings as int16 length + UTF-8, nullable strings with length -1, bytes as int32 length + data):
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
/// and group metadata values v0–v4 (v4 is flexible) as Kafka wrote them. Encoding never clamps: a string longer than
/// `maxStringBytes` (Kafka's int16 string limit) or a count that does not fit its field makes `key()` or
/// `value()` throw, so such a record is never written (callers refuse it earlier with Kafka's error).
/// A value type; thread-safe.
enum GroupRecord: Sendable, Equatable {
    case offset(group: String, partition: TopicPartition, value: CommittedOffset?)
    case metadata(group: String, value: StoredGroup?)
    /// A record of a `consumer`-protocol group (key versions 3, 5, 6, 7, 8).
    case consumer(ConsumerGroupRecord)
    /// A record of a share group (key versions 10–14).
    case share(ShareGroupRecord)

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
        case .share(let record): return record.groupId
        }
    }

    /// Whether the value is null (a deletion).
    var isTombstone: Bool {
        switch self {
        case .offset(_, _, let value): return value == nil
        case .metadata(_, let value): return value == nil
        case .consumer(let record): return record.isTombstone
        case .share(let record): return record.isTombstone
        }
    }

    /// Key version of offset commit records (Kafka writes 1; 0 is read too).
    static let offsetCommitKeyVersion: Int16 = 1
    /// Key version of classic group metadata records.
    static let groupMetadataKeyVersion: Int16 = 2
    /// Value version Kafka writes for offset commits and group metadata (the last non-flexible one).
    static let classicValueVersion: Int16 = 3

    /// The record's key bytes. Throws when a field does not fit Kafka's layout.
    func key() throws(BrokerError) -> ByteBuffer {
        switch self {
        case .offset(let group, let partition, _):
            let key = OffsetCommitKey(group: group, topic: partition.topic, partition: partition.partition)
            return try Self.stored(key, version: Self.offsetCommitKeyVersion)
        case .metadata(let group, _):
            return try Self.stored(GroupMetadataKey(group: group), version: Self.groupMetadataKeyVersion)
        case .consumer(let record):
            return try record.key()
        case .share(let record):
            return try record.key()
        }
    }

    /// The record's value bytes, nil for a tombstone. Throws when a field does not fit Kafka's layout.
    func value() throws(BrokerError) -> ByteBuffer? {
        switch self {
        case .offset(_, _, let value):
            guard let value else { return nil }
            let stored = OffsetCommitValue(
                offset: value.offset, leaderEpoch: value.leaderEpoch, metadata: value.metadata,
                commitTimestamp: value.commitTimestamp)
            return try Self.stored(stored, version: Self.classicValueVersion)
        case .metadata(_, let value):
            guard let value else { return nil }
            let stored = GroupMetadataValue(
                protocolType: value.protocolType, generation: value.generation, protocol: value.protocolName,
                leader: value.leader, currentStateTimestamp: value.stateTimestamp,
                members: value.members.map { member in
                    GroupMetadataValue.MemberMetadata(
                        memberId: member.memberId, groupInstanceId: member.groupInstanceId,
                        clientId: member.clientId, clientHost: member.clientHost,
                        rebalanceTimeout: member.rebalanceTimeoutMs, sessionTimeout: member.sessionTimeoutMs,
                        subscription: member.subscription, assignment: member.assignment)
                })
            return try Self.stored(stored, version: Self.classicValueVersion)
        case .consumer(let record):
            return try record.value()
        case .share(let record):
            return try record.value()
        }
    }

    /// `record` as stored (int16 version, body); an encoding failure becomes the broker's "cannot store" error.
    static func stored(_ record: some KafkaCoordinatorRecord, version: Int16) throws(BrokerError) -> ByteBuffer {
        do {
            return try record.encodedRecord(version: version)
        } catch {
            throw unstorable("\(type(of: record))", "\(error)")
        }
    }

    /// Decodes stored bytes of `type`; a decoding failure becomes the broker's "malformed record" error.
    static func parsed<Record: KafkaCoordinatorRecord>(_ type: Record.Type, _ bytes: ByteBuffer) throws(BrokerError) -> Record {
        do {
            return try Record.decodeRecord(bytes).record
        } catch {
            throw malformed("\(Record.self): \(error)")
        }
    }

    /// Decodes a key body of `type` in `version`, the version prefix already read from `key`.
    static func parsedKey<Record: KafkaCoordinatorRecord>(
        _ type: Record.Type, _ key: inout ByteBuffer, version: Int16
    ) throws(BrokerError) -> Record {
        do {
            return try Record.decode(from: &key, version: version)
        } catch {
            throw malformed("\(Record.self): \(error)")
        }
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
    init?(key: ByteBuffer, value: ByteBuffer?) throws(BrokerError) {
        var key = key
        let keyVersion: Int16
        do {
            keyVersion = try OffsetCommitKey.readRecordVersion(from: &key)
        } catch {
            throw Self.malformed("record key: \(error)")
        }
        switch keyVersion {
        case 0, 1:
            let stored = try Self.parsedKey(OffsetCommitKey.self, &key, version: keyVersion)
            self = .offset(
                group: stored.group, partition: TopicPartition(stored.topic, stored.partition),
                value: try value.map { (bytes) throws(BrokerError) in try Self.committedOffset(bytes) })
        case Self.groupMetadataKeyVersion:
            let stored = try Self.parsedKey(GroupMetadataKey.self, &key, version: keyVersion)
            self = .metadata(
                group: stored.group, value: try value.map { (bytes) throws(BrokerError) in try Self.storedGroup(bytes) })
        default:
            if let record = try ConsumerGroupRecord(keyVersion: keyVersion, key: &key, value: value) {
                self = .consumer(record)
            } else if let record = try ShareGroupRecord(keyVersion: keyVersion, key: &key, value: value) {
                self = .share(record)
            } else {
                return nil
            }
        }
    }

    private static func committedOffset(_ bytes: ByteBuffer) throws(BrokerError) -> CommittedOffset {
        let stored = try parsed(OffsetCommitValue.self, bytes)
        return CommittedOffset(
            offset: stored.offset, leaderEpoch: stored.leaderEpoch, metadata: stored.metadata,
            commitTimestamp: stored.commitTimestamp,
            expireTimestamp: stored.expireTimestamp >= 0 ? stored.expireTimestamp : nil)
    }

    private static func storedGroup(_ bytes: ByteBuffer) throws(BrokerError) -> StoredGroup {
        let stored = try parsed(GroupMetadataValue.self, bytes)
        var group = StoredGroup(
            protocolType: stored.protocolType, generation: stored.generation, protocolName: stored.`protocol`,
            leader: stored.leader, stateTimestamp: stored.currentStateTimestamp)
        group.members = stored.members.map { member in
            StoredGroup.Member(
                memberId: member.memberId, groupInstanceId: member.groupInstanceId, clientId: member.clientId,
                clientHost: member.clientHost,
                rebalanceTimeoutMs: member.rebalanceTimeout >= 0 ? member.rebalanceTimeout : member.sessionTimeout,
                sessionTimeoutMs: member.sessionTimeout, subscription: member.subscription,
                assignment: member.assignment)
        }
        return group
    }

    static func malformed(_ what: String) -> BrokerError {
        BrokerError(.io, "malformed __consumer_offsets record", context: what)
    }
}
