/// Checks the records of a record batch v2 against its header, as Kafka's `LogValidator` and `DefaultRecord`
/// do when a client's batch is appended, and walks them for the decoders.
///
/// Record layout (inside the records section, decompressed first when the batch is compressed):
/// ```
/// length          varint   bytes of the record after this field
/// attributes      int8     (unused)
/// timestampDelta  varlong  from the batch's baseTimestamp
/// offsetDelta     varint   from the batch's baseOffset: 0, 1, 2, ...
/// keyLength       varint   -1 = null key
/// key             bytes
/// valueLength     varint   -1 = null value
/// value           bytes
/// headerCount     varint
/// headers         headerCount × (keyLength varint (>= 0), key, valueLength varint (-1 = null), value)
/// ```
/// A batch passes when: its records exactly fill the records section (no bytes left, none missing), there are
/// exactly `recordCount` of them, the i-th has offset delta i (so `lastOffsetDelta == recordCount - 1`), every
/// length lies inside its record and is not negative except -1 for a null key or value, header keys are not
/// null, and each record's fields end exactly at its declared length. Kafka reports violations as
/// `InvalidRecordException` (INVALID_RECORD); so does `validate` (`LogEngineError.invalidRecord(_:)`).
///
/// Kafka accepts wrong offset deltas in v2 batches (it rewrites compressed batches, and ignores the deltas of
/// uncompressed ones); the log stores batches as they arrive, so it refuses them instead of serving offsets
/// that disagree with the header. Every real client writes 0, 1, 2, ...
///
/// Thread-safety: stateless.
public enum RecordValidator {
    /// What a walk of a batch's records found.
    public struct Summary: Sendable, Equatable {
        /// Number of records.
        public var recordCount: Int
        /// The largest record timestamp (`baseTimestamp + timestampDelta`, wrapping as Kafka's Java does);
        /// `Int64.min` when there is no record.
        public var maxTimestamp: Int64
    }

    /// One record during a walk: its index (= offset delta), timestamp and fields as views into the records
    /// section (valid only during the visit).
    struct Record {
        var index: Int
        /// The offset delta: equal to `index` in a client batch, increasing with gaps in a compacted one.
        var offsetDelta: Int64
        var timestamp: Int64
        var key: UnsafeRawBufferPointer?
        var value: UnsafeRawBufferPointer?
        var headers: [(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer?)]
    }

    /// Checks the records of the batch at `offset` in `bytes`, whose header passed `RecordBatchHeader.validate`.
    /// Compressed batches are decompressed within `budget`. Throws `invalidArgument` (`LogEngineError.invalidRecord`)
    /// for records that disagree with the header, `corruptBatch` for undecodable compressed data and
    /// `recordTooLarge` when the budget runs out.
    public static func validate(
        _ header: RecordBatchHeader, in bytes: UnsafeRawBufferPointer, at offset: Int,
        budget: inout DecompressionBudget
    ) throws -> Summary {
        try walk(header, in: bytes, at: offset, budget: &budget, visit: nil)
    }

    /// Walks the records of the batch at `offset`, checking them as `validate` does, and calls `visit` for each.
    static func walk(
        _ header: RecordBatchHeader, in bytes: UnsafeRawBufferPointer, at offset: Int,
        budget: inout DecompressionBudget, visit: ((Record) throws -> Void)?
    ) throws -> Summary {
        let section = try recordsSection(header, in: bytes, at: offset)
        let codec = try CompressionCodec(attributes: Int(header.attributes))
        if codec == .none { return try walkRecords(section, header, visit: visit) }
        let plain = try budget.decompress(codec, section)
        return try plain.withUnsafeBytes { try walkRecords($0, header, visit: visit) }
    }

    /// The records section (after the 61-byte header) of the batch at `offset`, as stored (maybe compressed).
    static func recordsSection(
        _ header: RecordBatchHeader, in bytes: UnsafeRawBufferPointer, at offset: Int
    ) throws -> UnsafeRawBufferPointer {
        guard offset >= 0, offset <= bytes.count, header.batchLength >= RecordBatchHeader.minimumBatchLength,
              header.totalSize <= bytes.count - offset
        else {
            throw LogEngineError(.corruptBatch, "batch extends past the buffer", context: "position \(offset)")
        }
        return UnsafeRawBufferPointer(rebasing: bytes[(offset + RecordBatchHeader.size)..<(offset + header.totalSize)])
    }

    /// Walks the (decompressed) records section `body` of the batch with `header`.
    ///
    /// With `offsetGaps` (batches read back from a log, which compaction may have thinned), offset deltas must
    /// increase and stay within the last offset delta instead of equalling the record's index.
    static func walkRecords(
        _ body: UnsafeRawBufferPointer, _ header: RecordBatchHeader, offsetGaps: Bool = false,
        visit: ((Record) throws -> Void)?
    ) throws -> Summary {
        let declared = Int(header.recordCount)
        var reader = ByteReader(body)
        var index = 0
        var maxTimestamp = Int64.min
        var previousDelta = Int64(-1)
        while reader.remaining > 0 {
            guard index < declared else {
                throw LogEngineError.invalidRecord(
                    "\(reader.remaining) bytes of records remain after the declared \(declared) records")
            }
            let length = try reader.varint("record length")
            guard length > 0, length <= Int64(reader.remaining) else {
                throw LogEngineError.invalidRecord(
                    "record \(index) claims \(length) bytes, \(reader.remaining) remain in the batch")
            }
            let recordEnd = reader.position + Int(length)
            var record = ByteReader(body, from: reader.position, end: recordEnd)
            do {
                _ = try record.int8("record attributes")
                let timestampDelta = try record.varint("timestamp delta")
                let offsetDelta = try record.varint("offset delta")
                if offsetGaps {
                    guard offsetDelta > previousDelta, offsetDelta <= Int64(header.lastOffsetDelta) else {
                        throw LogEngineError.invalidRecord(
                            "record \(index) has offset delta \(offsetDelta) after \(previousDelta)")
                    }
                    previousDelta = offsetDelta
                } else {
                    guard offsetDelta == Int64(index) else {
                        throw LogEngineError.invalidRecord(
                            "record \(index) has offset delta \(offsetDelta), expected \(index)")
                    }
                }
                let key = try nullableBytes(&record, "key", index)
                let value = try nullableBytes(&record, "value", index)
                let headerCount = try record.varint("header count")
                guard headerCount >= 0, headerCount <= Int64(record.remaining) else {
                    throw LogEngineError.invalidRecord("record \(index) claims \(headerCount) headers")
                }
                var headers: [(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer?)] = []
                for _ in 0..<Int(headerCount) {
                    guard let headerKey = try nullableBytes(&record, "header key", index) else {
                        throw LogEngineError.invalidRecord("record \(index) has a header with a null key")
                    }
                    let headerValue = try nullableBytes(&record, "header value", index)
                    if visit != nil { headers.append((headerKey, headerValue)) }
                }
                guard record.remaining == 0 else {
                    throw LogEngineError.invalidRecord(
                        "record \(index) declares \(length) bytes but its fields end \(record.remaining) bytes earlier")
                }
                let timestamp = header.baseTimestamp &+ timestampDelta
                maxTimestamp = max(maxTimestamp, timestamp)
                try visit?(Record(index: index, offsetDelta: offsetDelta, timestamp: timestamp, key: key, value: value, headers: headers))
            } catch let error as LogEngineError where error.code == .corruptBatch {
                // A field runs past its record: the record is malformed (Kafka: "Found invalid record structure").
                throw LogEngineError.invalidRecord("record \(index): \(error.message)")
            }
            reader.position = recordEnd
            index += 1
        }
        guard index == declared else {
            throw LogEngineError.invalidRecord("the batch declares \(declared) records but holds \(index)")
        }
        return Summary(recordCount: index, maxTimestamp: maxTimestamp)
    }

    /// Bytes with a varint length: -1 is null, other negative lengths and lengths past the record are invalid.
    private static func nullableBytes(
        _ reader: inout ByteReader, _ what: String, _ index: Int
    ) throws -> UnsafeRawBufferPointer? {
        let length = try reader.varint(what)
        if length == -1 { return nil }
        guard length >= 0, length <= Int64(reader.remaining) else {
            throw LogEngineError.invalidRecord("record \(index) has a \(what) of invalid length \(length)")
        }
        let start = reader.position
        reader.position += Int(length)
        return UnsafeRawBufferPointer(rebasing: reader.bytes[start..<reader.position])
    }
}
