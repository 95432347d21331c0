import NIOCore

/// The key or the value of a record that Kafka's coordinators keep in their internal compacted topics
/// (`__consumer_offsets`, `__transaction_state`, `__share_group_state`), generated from Kafka's record schemas.
///
/// Kafka stores each as an ordinary record of those topics, its key and its value each prefixed by their version:
///
/// ```
/// key:   int16 keyVersion   | key body in that version   (the key version also names the record type)
/// value: int16 valueVersion | value body in that version (a null value is a tombstone)
/// ```
/// Encoding never clamps: a string past 32767 bytes (compact ones too, as Kafka's writers refuse them) or a length
/// past an int32 throws. Conforming types are generated value types: `Sendable`, no shared state.
public protocol KafkaCoordinatorRecord: KafkaMessage {}

extension KafkaCoordinatorRecord {
    /// The stored bytes: the int16 `version`, then the body in that version.
    public func encodedRecord(version: Int16) throws -> ByteBuffer {
        var writer = KafkaWriter()
        writer.writeInteger(version)
        try checkedEncode(to: &writer, version: version)
        return writer.buffer
    }

    /// Reads the int16 version prefix of a stored key or value, advancing `buffer` past it.
    public static func readRecordVersion(from buffer: inout ByteBuffer) throws -> Int16 {
        try buffer.readKafkaInteger(Int16.self, field: "record version")
    }

    /// Decodes stored bytes: the int16 version prefix, then the body in that version. Bytes after the body are
    /// ignored, as Kafka's coordinators ignore them.
    public static func decodeRecord(_ bytes: ByteBuffer) throws -> (version: Int16, record: Self) {
        var buffer = bytes
        let version = try readRecordVersion(from: &buffer)
        return (version, try decode(from: &buffer, version: version))
    }
}
