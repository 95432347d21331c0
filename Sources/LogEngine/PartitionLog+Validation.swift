extension PartitionLog {
    /// Kafka's `LogValidator` checks of one batch of an append, `batch` of `bytes`: the header
    /// (`RecordBatchHeader.validateClientBatch`: magic, sizes, CRC-32C, record count, `max.message.bytes`), what
    /// `origin` may write (no control batches from clients; whether a transactional batch belongs to an ongoing
    /// transaction is the broker's check), then the records against the
    /// header (`RecordValidator`, decompressing within `budget`). Under CreateTime, a header max timestamp that is
    /// not the largest record timestamp is set to it and the CRC recomputed, as Kafka does.
    static func validateBatch(
        _ batch: RecordBatchSequence.Element, in bytes: UnsafeMutableRawBufferPointer, origin: AppendOrigin,
        config: LogConfig, budget: inout DecompressionBudget
    ) throws {
        let readable = UnsafeRawBufferPointer(bytes)
        let (position, header) = (batch.position, batch.header)
        try header.validateClientBatch(in: readable, at: position, maxBatchBytes: config.maxMessageBytes)
        if origin == .client {
            if header.isControl {
                throw LogEngineError.invalidRecord(
                    "clients may not write control batches", context: "position \(position)")
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
