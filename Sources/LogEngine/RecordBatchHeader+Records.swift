// Record-level reads that the timestamp lookups need. Uncompressed batches are walked in place; compressed
// ones are decoded (within a decompression budget). The append path never decodes records.

extension RecordBatchHeader {
    /// The first record of this batch (at `offset` in `bytes`) whose timestamp is at least `target` and whose
    /// offset is at least `minOffset`, with that record's timestamp (Kafka's answer to a ListOffsets timestamp
    /// query), or nil when no record of the batch qualifies. Compressed batches are decompressed within
    /// `maxDecompressedBytes`; a batch whose records cannot be read answers its first offset at or after
    /// `minOffset` with its max timestamp. Under LogAppendTime every record carries the batch's max timestamp.
    func firstRecord(
        withTimestampAtLeast target: Int64, minOffset: Int64, in bytes: UnsafeRawBufferPointer, at offset: Int,
        maxDecompressedBytes: Int = CompressionCodec.defaultMaxDecompressedBytes
    ) -> (offset: Int64, timestamp: Int64)? {
        guard maxTimestamp >= target, lastOffset >= minOffset else { return nil }
        let fallback = (offset: max(baseOffset, minOffset), timestamp: maxTimestamp)
        if compressionCodec == 0 && !isLogAppendTime {
            guard let found = firstOffset(withTimestampAtLeast: target, in: bytes, at: offset, minOffset: minOffset)
            else { return nil }
            return found
        }
        if isLogAppendTime { return fallback }
        guard let records = try? decodeRecords(in: bytes, at: offset, maxDecompressedBytes: maxDecompressedBytes) else {
            return fallback
        }
        for record in records where record.timestamp >= target && record.offset >= minOffset {
            return (record.offset, record.timestamp)
        }
        return nil
    }

    /// The offset of the first record of this batch whose timestamp equals the batch's max timestamp (Kafka's
    /// `offsetOfMaxTimestamp`): the first offset under LogAppendTime, the base offset when the records cannot be
    /// read.
    func offsetOfMaxTimestamp(
        in bytes: UnsafeRawBufferPointer, at offset: Int,
        maxDecompressedBytes: Int = CompressionCodec.defaultMaxDecompressedBytes
    ) -> Int64 {
        if isLogAppendTime { return baseOffset }
        if compressionCodec == 0 {
            return firstOffset(withTimestampAtLeast: maxTimestamp, in: bytes, at: offset, minOffset: Int64.min)?.offset
                ?? baseOffset
        }
        guard let records = try? decodeRecords(in: bytes, at: offset, maxDecompressedBytes: maxDecompressedBytes) else {
            return baseOffset
        }
        return records.first { $0.timestamp == maxTimestamp }?.offset ?? baseOffset
    }

    /// The offset of the first record in this batch (at `offset` in `bytes`) whose timestamp is at least
    /// `target`, or nil when none is. For compressed batches, and LogAppendTime batches, the batch's base
    /// offset when `maxTimestamp >= target`.
    func firstOffset(withTimestampAtLeast target: Int64, in bytes: UnsafeRawBufferPointer, at offset: Int) -> Int64? {
        guard maxTimestamp >= target else { return nil }
        if compressionCodec != 0 || isLogAppendTime { return baseOffset }
        return firstOffset(withTimestampAtLeast: target, in: bytes, at: offset, minOffset: Int64.min)?.offset
    }

    /// The uncompressed walk: the first record with timestamp >= `target` and offset >= `minOffset`, with its
    /// timestamp; the base offset (at least `minOffset`) and max timestamp when the records are malformed.
    private func firstOffset(
        withTimestampAtLeast target: Int64, in bytes: UnsafeRawBufferPointer, at offset: Int, minOffset: Int64
    ) -> (offset: Int64, timestamp: Int64)? {
        let fallback = (offset: max(baseOffset, minOffset), timestamp: maxTimestamp)
        var cursor = offset + Self.size
        let end = min(offset + totalSize, bytes.count)
        // Batches of segments below the recovery point were never rescanned: the count may be anything.
        for _ in 0..<Int(max(recordCount, 0)) {
            // Records are producer data the broker never validated: bound every step.
            guard let length = Self.readVarint(bytes, &cursor, end: end), length > 0, length <= end - cursor else {
                return fallback
            }
            let recordEnd = cursor + Int(length)
            cursor += 1  // attributes
            guard let timestampDelta = Self.readVarint(bytes, &cursor, end: recordEnd),
                  let offsetDelta = Self.readVarint(bytes, &cursor, end: recordEnd)
            else { return fallback }
            let (timestamp, overflow) = baseTimestamp.addingReportingOverflow(timestampDelta)
            let recordOffset = offsetDelta >= 0 && offsetDelta <= Int64(lastOffsetDelta) ? baseOffset + offsetDelta : baseOffset
            if !overflow && timestamp >= target && recordOffset >= minOffset {
                return (recordOffset, timestamp)
            }
            cursor = recordEnd
        }
        return minOffset == Int64.min ? fallback : nil
    }

    /// A zigzag varint (up to 64 bits) at `cursor`, advancing it; nil when malformed or past `end`.
    static func readVarint(_ bytes: UnsafeRawBufferPointer, _ cursor: inout Int, end: Int) -> Int64? {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while cursor < end, shift < 64 {
            let byte = bytes[cursor]
            cursor += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 {
                return Int64(bitPattern: result >> 1) ^ -Int64(bitPattern: result & 1)
            }
            shift += 7
        }
        return nil
    }
}
