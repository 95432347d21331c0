// Record-level reads that the timestamp lookup needs. Only uncompressed batches are walked; the append path
// never decodes records.

extension RecordBatchHeader {
    /// The offset of the first record in this batch (at `offset` in `bytes`) whose timestamp is at least
    /// `target`, or nil when none is. For compressed batches, and LogAppendTime batches, the batch's base
    /// offset when `maxTimestamp >= target`.
    func firstOffset(withTimestampAtLeast target: Int64, in bytes: UnsafeRawBufferPointer, at offset: Int) -> Int64? {
        guard maxTimestamp >= target else { return nil }
        if compressionCodec != 0 || isLogAppendTime { return baseOffset }
        var cursor = offset + Self.size
        let end = min(offset + totalSize, bytes.count)
        // Batches of segments below the recovery point were never rescanned: the count may be anything.
        for _ in 0..<Int(max(recordCount, 0)) {
            // Records are producer data the broker never validated: bound every step.
            guard let length = Self.readVarint(bytes, &cursor, end: end), length > 0, length <= end - cursor else {
                return baseOffset
            }
            let recordEnd = cursor + Int(length)
            cursor += 1  // attributes
            guard let timestampDelta = Self.readVarint(bytes, &cursor, end: recordEnd),
                  let offsetDelta = Self.readVarint(bytes, &cursor, end: recordEnd)
            else { return baseOffset }
            let (timestamp, overflow) = baseTimestamp.addingReportingOverflow(timestampDelta)
            if !overflow && timestamp >= target {
                return offsetDelta >= 0 && offsetDelta <= Int64(lastOffsetDelta) ? baseOffset + offsetDelta : baseOffset
            }
            cursor = recordEnd
        }
        return baseOffset
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
