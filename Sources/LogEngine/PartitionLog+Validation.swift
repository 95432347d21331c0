extension PartitionLog {
    /// Kafka's `LogValidator` checks of one batch of an append, at `position` in `bytes`: the header
    /// (`RecordBatchHeader.validate`: magic, sizes, CRC-32C, record count, `max.message.bytes`), what `origin` may
    /// write (no control or transactional batches from clients), then the records against the header
    /// (`RecordValidator`, decompressing within `budget`). Under CreateTime, a header max timestamp that is not
    /// the largest record timestamp is set to it and the CRC recomputed, as Kafka does.
    static func validateBatch(
        at position: Int, in bytes: UnsafeMutableRawBufferPointer, origin: AppendOrigin, config: LogConfig,
        budget: inout DecompressionBudget
    ) throws {
        let readable = UnsafeRawBufferPointer(bytes)
        let header = try RecordBatchHeader(parsing: readable, at: position)
        do {
            try header.validate(in: readable, at: position, maxBatchBytes: config.maxMessageBytes)
        } catch let error as LogEngineError where error.code == .corruptBatch && header.hasIntactCRCButBadCount(
            in: readable, at: position)
        {
            // Kafka checks the CRC first (CORRUPT_MESSAGE, retriable), then the counts (INVALID_RECORD: a retry
            // cannot help).
            throw LogEngineError.invalidRecord(error.message, context: error.context)
        }
        if origin == .client {
            if header.isControl {
                throw LogEngineError.invalidRecord(
                    "clients may not write control batches", context: "position \(position)")
            }
            if header.isTransactional {
                throw LogEngineError.transactionalBatchRefused(
                    "transactional batch of producer \(header.producerId) refused: the broker serves no transactions",
                    context: "position \(position)")
            }
        }
        let summary = try RecordValidator.validate(header, in: readable, at: position, budget: &budget)
        if config.messageTimestampType == .createTime, !header.isLogAppendTime,
           header.maxTimestamp != summary.maxTimestamp
        {
            RecordBatchHeader.setCreateTimeMaxTimestamp(
                summary.maxTimestamp, in: bytes, at: position, totalSize: header.totalSize)
        }
    }
}

extension RecordBatchHeader {
    /// Whether the batch at `offset` is whole with a matching CRC, but its record count and last offset delta
    /// disagree (or claim no record).
    func hasIntactCRCButBadCount(in bytes: UnsafeRawBufferPointer, at offset: Int) -> Bool {
        guard magic == Self.currentMagic, batchLength >= Self.minimumBatchLength, offset >= 0,
              totalSize <= bytes.count - offset,
              recordCount <= 0 || lastOffsetDelta < 0 || Int64(lastOffsetDelta) + 1 != Int64(recordCount)
        else { return false }
        return Self.computeCRC(in: bytes, at: offset, totalSize: totalSize) == crc
    }
}
