/// Encodes decoded records as one record batch v2, compressed with any codec: the target of format
/// up-conversion (message format v0/v1 → v2) on produce.
///
/// Offsets are relative to the first record (offset deltas 0, 1, ...; the log assigns the base offset);
/// the base timestamp is the first record's, the max timestamp the largest. Producer id, epoch and sequence are
/// -1 (not idempotent), the partition leader epoch -1. Layout: see `RecordBatchHeader`.
///
/// Thread-safety: stateless.
public enum RecordBatchEncoder {
    /// One batch holding `records` (at least one), its records section compressed with `compression`,
    /// attributes marking LogAppendTime when `logAppendTime`.
    public static func encode(
        _ records: [DecodedRecord], compression: CompressionCodec, logAppendTime: Bool = false, baseOffset: Int64 = 0
    ) throws -> [UInt8] {
        guard let first = records.first else {
            throw LogEngineError(.invalidArgument, "a record batch needs at least one record")
        }
        let baseTimestamp = first.timestamp
        let maxTimestamp = records.map(\.timestamp).max() ?? baseTimestamp
        var body: [UInt8] = []
        var encoded: [UInt8] = []
        for (index, record) in records.enumerated() {
            encoded.removeAll(keepingCapacity: true)
            encoded.append(0)  // attributes
            RecordBatchBuilder.appendVarint(record.timestamp &- baseTimestamp, to: &encoded)
            RecordBatchBuilder.appendVarint(Int64(index), to: &encoded)
            RecordBatchBuilder.appendBytes(record.key, to: &encoded)
            RecordBatchBuilder.appendBytes(record.value, to: &encoded)
            RecordBatchBuilder.appendVarint(Int64(record.headers.count), to: &encoded)
            for header in record.headers {
                RecordBatchBuilder.appendBytes(header.key, to: &encoded)
                RecordBatchBuilder.appendBytes(header.value, to: &encoded)
            }
            RecordBatchBuilder.appendVarint(Int64(encoded.count), to: &body)
            body += encoded
        }
        if compression != .none { body = try compression.compress(body) }
        var attributes = Int16(compression.rawValue)
        if logAppendTime { attributes |= RecordBatchHeader.timestampTypeBit }
        var batch: [UInt8] = []
        batch.reserveCapacity(RecordBatchHeader.size + body.count)
        batch.appendInt64BE(baseOffset)
        guard let batchLength = Int32(exactly: RecordBatchHeader.size - RecordBatchHeader.logOverhead + body.count),
              let lastOffsetDelta = Int32(exactly: records.count - 1)
        else {
            throw LogEngineError(.recordTooLarge, "\(records.count) records of \(body.count) bytes do not fit one batch")
        }
        batch.appendInt32BE(batchLength)
        batch.appendInt32BE(-1)  // partition leader epoch
        batch.append(UInt8(RecordBatchHeader.currentMagic))
        batch.appendInt32BE(0)  // crc, set below
        batch.appendInt16BE(attributes)
        batch.appendInt32BE(lastOffsetDelta)
        batch.appendInt64BE(baseTimestamp)
        batch.appendInt64BE(maxTimestamp)
        batch.appendInt64BE(-1)  // producer id
        batch.appendInt16BE(-1)  // producer epoch
        batch.appendInt32BE(-1)  // base sequence
        batch.appendInt32BE(lastOffsetDelta + 1)
        batch += body
        batch.withUnsafeMutableBytes { out in
            let crc = RecordBatchHeader.computeCRC(in: UnsafeRawBufferPointer(out), at: 0, totalSize: out.count)
            out.storeUInt32BE(crc, at: RecordBatchHeader.crcOffset)
        }
        return batch
    }
}
