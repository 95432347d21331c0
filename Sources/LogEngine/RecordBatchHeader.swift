/// The fixed 61-byte header of a Kafka record batch v2, parsed in place from raw bytes.
///
/// Layout (big-endian):
/// ```
/// offset size field
///      0    8 baseOffset             (not covered by the CRC)
///      8    4 batchLength            (bytes after this field: total size - 12)
///     12    4 partitionLeaderEpoch   (not covered by the CRC)
///     16    1 magic = 2
///     17    4 crc                    CRC-32C of bytes 21 ..< 12 + batchLength
///     21    2 attributes             bits 0-2 compression, 3 timestamp type (1 = LogAppendTime),
///                                    4 transactional, 5 control
///     23    4 lastOffsetDelta
///     27    8 baseTimestamp
///     35    8 maxTimestamp
///     43    8 producerId
///     51    2 producerEpoch
///     53    4 baseSequence
///     57    4 recordCount
///     61    - records
/// ```
/// Thread-safety: a value type; the static mutators touch only the bytes they are given.
public struct RecordBatchHeader: Sendable, Equatable {
    /// Size of the fixed header.
    public static let size = 61
    /// Bytes before the part counted by `batchLength` (baseOffset and batchLength).
    public static let logOverhead = 12
    /// The smallest valid `batchLength` (a header without records).
    public static let minimumBatchLength = Int32(size - logOverhead)
    public static let currentMagic: Int8 = 2

    static let crcOffset = 17
    static let attributesOffset = 21
    static let maxTimestampOffset = 35
    static let timestampTypeBit: Int16 = 0x08

    public var baseOffset: Int64
    public var batchLength: Int32
    public var partitionLeaderEpoch: Int32
    public var magic: Int8
    public var crc: UInt32
    public var attributes: Int16
    public var lastOffsetDelta: Int32
    public var baseTimestamp: Int64
    public var maxTimestamp: Int64
    public var producerId: Int64
    public var producerEpoch: Int16
    public var baseSequence: Int32
    public var recordCount: Int32

    /// Parses the header at `offset`. Throws `corruptBatch` when fewer than 61 bytes are available.
    /// Checks nothing else; see `validate`.
    public init(parsing bytes: UnsafeRawBufferPointer, at offset: Int) throws {
        guard offset >= 0, bytes.count - offset >= Self.size else {
            throw LogEngineError(.corruptBatch, "truncated batch header", context: "position \(offset)")
        }
        baseOffset = bytes.int64BE(at: offset)
        batchLength = bytes.int32BE(at: offset + 8)
        partitionLeaderEpoch = bytes.int32BE(at: offset + 12)
        magic = Int8(bitPattern: bytes[offset + 16])
        crc = bytes.uint32BE(at: offset + 17)
        attributes = bytes.int16BE(at: offset + 21)
        lastOffsetDelta = bytes.int32BE(at: offset + 23)
        baseTimestamp = bytes.int64BE(at: offset + 27)
        maxTimestamp = bytes.int64BE(at: offset + 35)
        producerId = bytes.int64BE(at: offset + 43)
        producerEpoch = bytes.int16BE(at: offset + 51)
        baseSequence = bytes.int32BE(at: offset + 53)
        recordCount = bytes.int32BE(at: offset + 57)
    }

    /// Total size of the batch in bytes, header included.
    public var totalSize: Int { Int(batchLength) + Self.logOverhead }
    /// Wrapping arithmetic: the base offset is not covered by the CRC, so on disk it may hold anything.
    public var lastOffset: Int64 { baseOffset &+ Int64(lastOffsetDelta) }
    public var nextOffset: Int64 { lastOffset &+ 1 }
    /// Whether the base offset leaves room for any offset delta (recovery treats other batches as corrupt).
    public var hasStorableBaseOffset: Bool { baseOffset >= 0 && baseOffset <= Int64.max - Int64(UInt32.max) }
    /// Compression codec: 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd.
    public var compressionCodec: Int { Int(attributes & 0x07) }
    public var isLogAppendTime: Bool { attributes & Self.timestampTypeBit != 0 }
    public var isTransactional: Bool { attributes & 0x10 != 0 }
    public var isControl: Bool { attributes & 0x20 != 0 }

    /// Validates the batch that starts at `offset` in `bytes` as Kafka does for magic 2: header fields, that the
    /// whole batch is present, the CRC-32C, `lastOffsetDelta + 1 == recordCount > 0`, and the size limit.
    /// Throws `corruptBatch` or `recordTooLarge`.
    public func validate(in bytes: UnsafeRawBufferPointer, at offset: Int, maxBatchBytes: Int = Int(Int32.max)) throws {
        try validateStructure(available: bytes.count - offset, at: offset)
        if totalSize > maxBatchBytes {
            throw LogEngineError(
                .recordTooLarge, "batch of \(totalSize) bytes exceeds the limit of \(maxBatchBytes)",
                context: "position \(offset)")
        }
        let computed = Self.computeCRC(in: bytes, at: offset, totalSize: totalSize)
        if computed != crc {
            throw LogEngineError(
                .corruptBatch, "CRC mismatch: stored \(crc), computed \(computed)", context: "position \(offset)")
        }
    }

    /// Validates a batch read back from a log as Kafka's `DefaultRecordBatch.ensureValid` does: as `validate`, except
    /// that the record count may be lower than `lastOffsetDelta + 1`, down to 0, because compaction removes records
    /// from a batch (and keeps producer batches with no record at all) while the batch keeps its offset range.
    public func validateStored(in bytes: UnsafeRawBufferPointer, at offset: Int) throws {
        try validateStructure(available: bytes.count - offset, at: offset, stored: true)
        let computed = Self.computeCRC(in: bytes, at: offset, totalSize: totalSize)
        if computed != crc {
            throw LogEngineError(
                .corruptBatch, "CRC mismatch: stored \(crc), computed \(computed)", context: "position \(offset)")
        }
    }

    /// KIP-534's attribute bit 6: the base timestamp holds the delete horizon (set by compaction on batches
    /// holding tombstones or transaction markers).
    public static let deleteHorizonBit: Int16 = 0x40
    /// The delete horizon (ms) when the batch carries one (`deleteHorizonBit`), else nil.
    public var deleteHorizonMs: Int64? { attributes & Self.deleteHorizonBit != 0 ? baseTimestamp : nil }

    /// The checks that need no CRC: magic, length bounds, record count and offset delta consistency (for a
    /// `stored` batch: a record count from 0 to `lastOffsetDelta + 1`, see `validateStored`).
    func validateStructure(available: Int, at offset: Int, stored: Bool = false) throws {
        if magic != Self.currentMagic {
            throw LogEngineError(.corruptBatch, "unsupported magic \(magic)", context: "position \(offset)")
        }
        if batchLength < Self.minimumBatchLength || totalSize > available {
            throw LogEngineError(
                .corruptBatch, "batch length \(batchLength) out of bounds (\(available) bytes available)",
                context: "position \(offset)")
        }
        let countMismatch = stored
            ? recordCount < 0 || Int64(recordCount) > Int64(lastOffsetDelta) + 1
            : recordCount <= 0 || Int64(lastOffsetDelta) + 1 != Int64(recordCount)
        if lastOffsetDelta < 0 || countMismatch {
            throw LogEngineError(
                .corruptBatch,
                "inconsistent record count \(recordCount) and last offset delta \(lastOffsetDelta)",
                context: "position \(offset)")
        }
        if compressionCodec > 4 {
            throw LogEngineError(.corruptBatch, "unknown compression codec \(compressionCodec)")
        }
    }

    /// CRC-32C of the batch bytes covered by the checksum (attributes to the end).
    public static func computeCRC(in bytes: UnsafeRawBufferPointer, at offset: Int, totalSize: Int) -> UInt32 {
        let start = offset + attributesOffset
        return CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[start..<(offset + totalSize)]))
    }

    /// Rewrites the base offset of the batch at `offset`. The CRC stays valid (it does not cover the field).
    public static func rewriteBaseOffset(_ baseOffset: Int64, in bytes: UnsafeMutableRawBufferPointer, at offset: Int) {
        bytes.storeInt64BE(baseOffset, at: offset)
    }

    /// Sets the partition leader epoch of the batch at `offset` (bytes 12–15, not covered by the CRC).
    public static func setPartitionLeaderEpoch(_ epoch: Int32, in bytes: UnsafeMutableRawBufferPointer, at offset: Int) {
        bytes.storeInt32BE(epoch, at: offset + 12)
    }

    /// Sets the max timestamp of the CreateTime batch at `offset` and recomputes the CRC (the field is covered by
    /// it). `totalSize` must have been validated.
    static func setCreateTimeMaxTimestamp(
        _ timestamp: Int64, in bytes: UnsafeMutableRawBufferPointer, at offset: Int, totalSize: Int
    ) {
        bytes.storeInt64BE(timestamp, at: offset + maxTimestampOffset)
        let crc = computeCRC(in: UnsafeRawBufferPointer(bytes), at: offset, totalSize: totalSize)
        bytes.storeUInt32BE(crc, at: offset + crcOffset)
    }

    /// Marks the batch at `offset` as LogAppendTime with `timestamp` as its max timestamp and recomputes the CRC
    /// (both fields are covered by it). `totalSize` must have been validated.
    public static func setLogAppendTime(
        _ timestamp: Int64, in bytes: UnsafeMutableRawBufferPointer, at offset: Int, totalSize: Int
    ) {
        let readable = UnsafeRawBufferPointer(bytes)
        let attributes = readable.int16BE(at: offset + attributesOffset) | timestampTypeBit
        bytes.storeInt16BE(attributes, at: offset + attributesOffset)
        bytes.storeInt64BE(timestamp, at: offset + maxTimestampOffset)
        bytes.storeUInt32BE(computeCRC(in: readable, at: offset, totalSize: totalSize), at: offset + crcOffset)
    }
}
