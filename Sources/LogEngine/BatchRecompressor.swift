import NIOCore

/// Rewrites record batches v2 with another compression codec, for topics whose `compression.type` names one
/// (Kafka recompresses on the broker then). Only the records section changes: it is decompressed with the
/// batch's codec and compressed with the target; the header keeps every field but the codec bits, the batch
/// length and the CRC, which are recomputed. Control batches are left alone.
///
/// Every batch is validated (CRC included) before it is touched, so a corrupt batch is never given a fresh
/// CRC. Stateless; thread-safe.
public enum BatchRecompressor {
    /// The batches of `records` with `target` compression, or `nil` when every batch already uses it.
    ///
    /// Decompression of all batches together takes at most `maxDecompressedBytes` (the append's budget, see
    /// `DecompressionBudget.forAppend(maxMessageBytes:)`); beyond it, or when a recompressed batch would not
    /// fit its 32-bit length, throws `recordTooLarge`. Malformed batches throw `corruptBatch`.
    public static func recompress(
        _ records: ByteBuffer, to target: CompressionCodec, maxBatchBytes: Int = Int(Int32.max),
        maxDecompressedBytes: Int = DecompressionBudget.minimumAppendLimit
    ) throws -> ByteBuffer? {
        var budget = DecompressionBudget(limit: maxDecompressedBytes)
        return try recompress(records, to: target, maxBatchBytes: maxBatchBytes, budget: &budget)
    }

    /// As `recompress(_:to:maxBatchBytes:maxDecompressedBytes:)`, charging decompression to `budget`, which the
    /// caller shares with the rest of its request's work (one total per produce request).
    public static func recompress(
        _ records: ByteBuffer, to target: CompressionCodec, maxBatchBytes: Int = Int(Int32.max),
        budget: inout DecompressionBudget
    ) throws -> ByteBuffer? {
        try records.withUnsafeReadableBytes { bytes -> ByteBuffer? in
            var headers: [(offset: Int, header: RecordBatchHeader)] = []
            var walk = RecordBatchSequence(bytes).makeIterator()
            while let batch = walk.next() {
                try batch.header.validateClientBatch(in: bytes, at: batch.position, maxBatchBytes: maxBatchBytes)
                headers.append((batch.position, batch.header))
            }
            if let stop = walk.stop {
                // What the batch checks say about a batch whose length does not delimit it.
                try stop.header?.validateClientBatch(in: bytes, at: stop.position, maxBatchBytes: maxBatchBytes)
                throw stop.error
            }
            guard headers.contains(where: { !$0.header.isControl && $0.header.compressionCodec != target.rawValue }) else {
                return nil
            }
            var output = ByteBuffer()
            output.reserveCapacity(bytes.count)
            for (start, header) in headers {
                let batch = UnsafeRawBufferPointer(rebasing: bytes[start..<(start + header.totalSize)])
                guard !header.isControl, header.compressionCodec != target.rawValue else {
                    output.writeBytes(batch)
                    continue
                }
                let source = try CompressionCodec(attributes: Int(header.attributes))
                let section = UnsafeRawBufferPointer(rebasing: batch[RecordBatchHeader.size...])
                let plain = source == .none ? Array(section) : try budget.decompress(source, section)
                let payload = target == .none ? plain : try target.compress(plain)
                // Every header field is kept (the validated record count gives the same last offset delta).
                var encoder = RecordBatchEncoder(
                    baseOffset: header.baseOffset, baseTimestamp: header.baseTimestamp, compression: target)
                encoder.partitionLeaderEpoch = header.partitionLeaderEpoch
                encoder.attributes = header.attributes & ~0x07
                encoder.producerId = header.producerId
                encoder.producerEpoch = header.producerEpoch
                encoder.baseSequence = header.baseSequence
                output.writeBytes(try encoder.encode(
                    section: payload, recordCount: Int(header.recordCount), maxTimestamp: header.maxTimestamp))
            }
            return output
        }
    }
}
