/// Builds uncompressed Kafka record batches v2 with a correct CRC-32C.
///
/// Used by tests, tools and the crash-test writer; the broker itself stores what producers send.
/// Each record is encoded as Kafka does: length (zigzag varint), attributes int8, timestampDelta (zigzag varlong),
/// offsetDelta (zigzag varint), key length + key, value length + value (length -1 for null), header count 0.
///
/// Thread-safety: a value type.
public struct RecordBatchBuilder: Sendable {
    /// One record: key, value and timestamp delta from the batch's base timestamp.
    public struct Record: Sendable, Equatable {
        public var key: [UInt8]?
        public var value: [UInt8]?
        public var timestampDelta: Int64

        public init(key: [UInt8]? = nil, value: [UInt8]?, timestampDelta: Int64 = 0) {
            self.key = key
            self.value = value
            self.timestampDelta = timestampDelta
        }
    }

    public var baseOffset: Int64 = 0
    public var baseTimestamp: Int64 = 0
    public var partitionLeaderEpoch: Int32 = -1
    public var attributes: Int16 = 0
    public var producerId: Int64 = -1
    public var producerEpoch: Int16 = -1
    public var baseSequence: Int32 = -1

    public init(baseOffset: Int64 = 0, baseTimestamp: Int64 = 0) {
        self.baseOffset = baseOffset
        self.baseTimestamp = baseTimestamp
    }

    /// The bytes of one batch holding `records` (at least one).
    public func build(_ records: [Record]) -> [UInt8] {
        var body: [UInt8] = []
        for (index, record) in records.enumerated() {
            var encoded: [UInt8] = [0]  // attributes
            Self.appendVarint(record.timestampDelta, to: &encoded)
            Self.appendVarint(Int64(index), to: &encoded)
            Self.appendBytes(record.key, to: &encoded)
            Self.appendBytes(record.value, to: &encoded)
            Self.appendVarint(0, to: &encoded)  // headers
            Self.appendVarint(Int64(encoded.count), to: &body)
            body += encoded
        }
        let maxDelta = records.map(\.timestampDelta).max() ?? 0
        let totalSize = RecordBatchHeader.size + body.count
        var bytes = [UInt8](repeating: 0, count: totalSize)
        bytes.withUnsafeMutableBytes { out in
            out.storeInt64BE(baseOffset, at: 0)
            out.storeInt32BE(Int32(totalSize - RecordBatchHeader.logOverhead), at: 8)
            out.storeInt32BE(partitionLeaderEpoch, at: 12)
            out[16] = 2
            out.storeInt16BE(attributes, at: 21)
            out.storeInt32BE(Int32(max(records.count - 1, 0)), at: 23)
            out.storeInt64BE(baseTimestamp, at: 27)
            out.storeInt64BE(baseTimestamp + maxDelta, at: 35)
            out.storeInt64BE(producerId, at: 43)
            out.storeInt16BE(producerEpoch, at: 51)
            out.storeInt32BE(baseSequence, at: 53)
            out.storeInt32BE(Int32(records.count), at: 57)
            for (index, byte) in body.enumerated() { out[RecordBatchHeader.size + index] = byte }
            let crc = RecordBatchHeader.computeCRC(in: UnsafeRawBufferPointer(out), at: 0, totalSize: totalSize)
            out.storeUInt32BE(crc, at: RecordBatchHeader.crcOffset)
        }
        return bytes
    }

    /// Convenience: a batch of `count` records with values `value(i)`, timestamps `baseTimestamp + i`.
    public func build(count: Int, value: (Int) -> [UInt8]) -> [UInt8] {
        build((0..<count).map { Record(value: value($0), timestampDelta: Int64($0)) })
    }

    static func appendVarint(_ value: Int64, to bytes: inout [UInt8]) {
        var zigzag = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        while zigzag >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: zigzag) | 0x80)
            zigzag >>= 7
        }
        bytes.append(UInt8(zigzag))
    }

    static func appendBytes(_ value: [UInt8]?, to bytes: inout [UInt8]) {
        guard let value else {
            appendVarint(-1, to: &bytes)
            return
        }
        appendVarint(Int64(value.count), to: &bytes)
        bytes += value
    }
}
