/// The record of a control batch (a transaction marker), as Kafka writes it:
/// ```
/// key:   int16 version (0) | int16 type (0 = abort, 1 = commit)
/// value: int16 version (0) | int32 coordinatorEpoch
/// ```
/// Thread-safety: a value type.
public struct ControlRecord: Sendable, Equatable {
    public static let abortType: Int16 = 0
    public static let commitType: Int16 = 1

    public var isCommit: Bool
    public var coordinatorEpoch: Int32

    public init(isCommit: Bool, coordinatorEpoch: Int32) {
        self.isCommit = isCommit
        self.coordinatorEpoch = coordinatorEpoch
    }

    /// The marker batch of `producerId`/`epoch`: transactional and control attributes, no sequence, one record.
    public func batch(producerId: Int64, producerEpoch: Int16, timestamp: Int64) throws -> [UInt8] {
        var encoder = RecordBatchEncoder(baseOffset: 0, baseTimestamp: timestamp)
        encoder.attributes = 0x30
        encoder.producerId = producerId
        encoder.producerEpoch = producerEpoch
        encoder.baseSequence = -1
        let type = isCommit ? Self.commitType : Self.abortType
        let key: [UInt8] = [0, 0, UInt8(truncatingIfNeeded: type >> 8), UInt8(truncatingIfNeeded: type)]
        var value: [UInt8] = [0, 0]
        withUnsafeBytes(of: coordinatorEpoch.bigEndian) { value.append(contentsOf: $0) }
        return try encoder.encode([.init(key: key, value: value)])
    }

    /// The control record of the (uncompressed) control batch at `position` of `bytes`, whose header is
    /// `header`; nil when it cannot be parsed or its type is neither abort nor commit. Every length is checked
    /// against the batch (untrusted bytes).
    public static func parse(_ header: RecordBatchHeader, in bytes: UnsafeRawBufferPointer, at position: Int) -> ControlRecord? {
        guard header.isControl, header.compressionCodec == 0, header.recordCount >= 1 else { return nil }
        let end = position + header.totalSize
        guard end <= bytes.count else { return nil }
        var cursor = position + RecordBatchHeader.size
        func varint() -> Int64? {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while cursor < end, shift < 64 {
                let byte = bytes[cursor]
                cursor += 1
                result |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return Int64(bitPattern: result >> 1) ^ -Int64(bitPattern: result & 1) }
                shift += 7
            }
            return nil
        }
        func int16() -> Int16? {
            guard cursor + 2 <= end else { return nil }
            defer { cursor += 2 }
            return Int16(bitPattern: UInt16(bytes[cursor]) << 8 | UInt16(bytes[cursor + 1]))
        }
        guard varint() != nil, cursor < end else { return nil }
        cursor += 1  // attributes
        guard varint() != nil, varint() != nil, let keyLength = varint(), keyLength >= 4,
              keyLength <= Int64(end - cursor)
        else { return nil }
        let keyEnd = cursor + Int(keyLength)
        guard int16() != nil, let type = int16(), type == abortType || type == commitType else { return nil }
        cursor = keyEnd
        var epoch: Int32 = -1
        if let valueLength = varint(), valueLength >= 6, valueLength <= Int64(end - cursor) {
            cursor += 2
            epoch = Int32(bitPattern: UInt32(bytes[cursor]) << 24 | UInt32(bytes[cursor + 1]) << 16
                | UInt32(bytes[cursor + 2]) << 8 | UInt32(bytes[cursor + 3]))
        }
        return ControlRecord(isCommit: type == commitType, coordinatorEpoch: epoch)
    }
}
