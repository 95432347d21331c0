/// The records of a stored batch as the cleaner sees them: where each record's bytes are, its offset and
/// timestamp deltas, its key and whether it has a value. Layout: see `RecordValidator`. Offset deltas must
/// increase and stay within the batch's last offset delta, and at most `recordCount` records may be present;
/// anything else is a corrupt batch.
///
/// Thread-safety: stateless.
enum CleanerRecords {
    struct Record {
        /// The record's bytes in the (decompressed) records section, its length varint included.
        var range: Range<Int>
        /// Where the offset delta field starts: what follows it is copied unchanged when the record is
        /// re-encoded against another base timestamp.
        var offsetDeltaPosition: Int
        var timestampDelta: Int64
        var offsetDelta: Int64
        var key: UnsafeRawBufferPointer?
        var hasValue: Bool
    }

    /// Calls `body` for each record of the records section `section` (already decompressed) of `header`'s batch.
    static func walk(
        _ section: UnsafeRawBufferPointer, _ header: RecordBatchHeader, _ body: (Record) throws -> Void
    ) throws {
        var reader = ByteReader(section)
        var count = 0
        var previousDelta = Int64(-1)
        while reader.remaining > 0 {
            let start = reader.position
            let length = try reader.varint("record length")
            guard length > 0, length <= Int64(reader.remaining), count < Int(max(header.recordCount, 0)) else {
                throw LogEngineError(.corruptBatch, "malformed record \(count) in the batch at offset \(header.baseOffset)")
            }
            let end = reader.position + Int(length)
            var record = ByteReader(section, from: reader.position, end: end)
            _ = try record.int8("record attributes")
            let timestampDelta = try record.varint("timestamp delta")
            let offsetDeltaPosition = record.position
            let offsetDelta = try record.varint("offset delta")
            guard offsetDelta > previousDelta, offsetDelta <= Int64(header.lastOffsetDelta) else {
                throw LogEngineError(
                    .corruptBatch, "record offset delta \(offsetDelta) out of order in the batch at \(header.baseOffset)")
            }
            previousDelta = offsetDelta
            let keyLength = try record.varint("key length")
            var key: UnsafeRawBufferPointer? = nil
            if keyLength >= 0 {
                guard keyLength <= Int64(record.remaining) else {
                    throw LogEngineError(.corruptBatch, "record key past its record at offset \(header.baseOffset)")
                }
                key = UnsafeRawBufferPointer(rebasing: section[record.position..<(record.position + Int(keyLength))])
                record.position += Int(keyLength)
            }
            let valueLength = try record.varint("value length")
            try body(Record(
                range: start..<end, offsetDeltaPosition: offsetDeltaPosition, timestampDelta: timestampDelta,
                offsetDelta: offsetDelta, key: key, hasValue: valueLength >= 0))
            reader.position = end
            count += 1
        }
    }

    /// The records section of the batch at `position` in `bytes`, decompressed (within `budget`) when needed,
    /// passed to `body`.
    static func withSection<T>(
        _ header: RecordBatchHeader, in bytes: UnsafeRawBufferPointer, at position: Int, maxDecompressedBytes: Int,
        _ body: (UnsafeRawBufferPointer) throws -> T
    ) throws -> T {
        let section = try RecordValidator.recordsSection(header, in: bytes, at: position)
        let codec = try CompressionCodec(attributes: Int(header.attributes))
        if codec == .none { return try body(section) }
        var budget = DecompressionBudget(limit: maxDecompressedBytes)
        let plain = try budget.decompress(codec, section)
        return try plain.withUnsafeBytes { try body($0) }
    }
}
