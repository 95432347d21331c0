/// Conversion between message format v0/v1 message sets and record batches v2, as Kafka 3.x does for old
/// clients: produce requests v0–v2 are up-converted to one batch v2 before the append, and fetch responses
/// v0–v3 are down-converted from the stored batches. Current clients never pay for either.
///
/// Down-conversion writes uncompressed messages (decompressing stored batches as needed), drops record headers
/// (v0/v1 have none) and control batches (old clients do not know them), and drops timestamps for magic 0.
///
/// Thread-safety: stateless.
public enum MessageFormatConverter {
    /// The magic of the message set or batch at the start of `bytes` (byte 16), nil when too short.
    public static func magic(of bytes: UnsafeRawBufferPointer) -> Int8? {
        bytes.count > 16 ? Int8(bitPattern: bytes[16]) : nil
    }

    /// One record batch v2 holding every message of the v0/v1 message set `bytes`, compressed with the codec the
    /// producer used (that of the first compressed wrapper). Offsets are relative; the log assigns them.
    /// Throws `corruptBatch` for malformed or corrupt messages and `recordTooLarge` when decompressing and
    /// decoding the messages would take more than `maxDecompressedBytes` (see `DecompressionBudget`).
    public static func upConvert(
        _ bytes: UnsafeRawBufferPointer, maxDecompressedBytes: Int = DecompressionBudget.minimumAppendLimit
    ) throws -> [UInt8] {
        var budget = DecompressionBudget(limit: maxDecompressedBytes)
        return try upConvert(bytes, budget: &budget)
    }

    /// As `upConvert(_:maxDecompressedBytes:)`, charging decompression and decoding to `budget`, which the caller
    /// shares with the rest of its request's work.
    public static func upConvert(_ bytes: UnsafeRawBufferPointer, budget: inout DecompressionBudget) throws -> [UInt8] {
        let decoded = try LegacyMessageSet.decode(bytes, budget: &budget)
        return try RecordBatchEncoder.encode(decoded.records, compression: decoded.compression)
    }

    /// The result of a down-conversion.
    public struct DownConverted: Sendable {
        /// The message set (magic 0 or 1 messages).
        public var bytes: [UInt8]
        /// The offset after the last batch looked at: where to continue when `bytes` came out empty.
        public var nextOffset: Int64
    }

    /// Converts the whole v2 batches in `batches` to uncompressed messages of `magic` (0 or 1), keeping records
    /// at or after `fromOffset`. Stops before a message that would take the set past `maxBytes`, except that
    /// the first message is always included (so a consumer always progresses).
    ///
    /// Decompressing and decoding the batches takes at most `maxDecompressedBytes` in total (see
    /// `DecompressionBudget`): when the budget runs out after some messages were converted, those are returned
    /// (the consumer fetches the rest next time); when it runs out before the first, throws `recordTooLarge`.
    public static func downConvert(
        _ batches: UnsafeRawBufferPointer, toMagic magic: Int8, fromOffset: Int64, maxBytes: Int,
        maxDecompressedBytes: Int = DecompressionBudget.minimumAppendLimit
    ) throws -> DownConverted {
        var budget = DecompressionBudget(limit: maxDecompressedBytes)
        return try downConvert(batches, toMagic: magic, fromOffset: fromOffset, maxBytes: maxBytes, budget: &budget)
    }

    /// As `downConvert(_:toMagic:fromOffset:maxBytes:maxDecompressedBytes:)`, charging to `budget`, which the
    /// caller shares over every partition of one fetch response.
    public static func downConvert(
        _ batches: UnsafeRawBufferPointer, toMagic magic: Int8, fromOffset: Int64, maxBytes: Int,
        budget: inout DecompressionBudget
    ) throws -> DownConverted {
        var out: [UInt8] = []
        var nextOffset = fromOffset
        var walk = RecordBatchSequence(batches, check: .structure).makeIterator()
        while let batch = walk.next() {
            let (position, header) = (batch.position, batch.header)
            if header.isControl {
                nextOffset = max(nextOffset, header.nextOffset)
                continue
            }
            let records: [DecodedRecord]
            do {
                records = try header.decodeRecords(in: batches, at: position, budget: &budget)
            } catch let error as LogEngineError where error.code == .recordTooLarge && !out.isEmpty {
                return DownConverted(bytes: out, nextOffset: nextOffset)
            }
            for record in records where record.offset >= fromOffset {
                let size = LegacyMessageSet.messageSize(magic: magic, key: record.key, value: record.value)
                if !out.isEmpty && out.count + size > maxBytes {
                    return DownConverted(bytes: out, nextOffset: nextOffset)
                }
                LegacyMessageSet.appendMessage(
                    to: &out, offset: record.offset, magic: magic,
                    attributes: magic >= 1 && header.isLogAppendTime ? 0x08 : 0, timestamp: record.timestamp,
                    key: record.key, value: record.value)
                nextOffset = record.offset + 1
            }
            nextOffset = max(nextOffset, header.nextOffset)
        }
        if let stop = walk.stop { throw stop.error }
        return DownConverted(bytes: out, nextOffset: nextOffset)
    }
}
