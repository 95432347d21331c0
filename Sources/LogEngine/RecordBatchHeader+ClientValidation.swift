// Header validation of a client's batch, with Kafka's error codes.

extension RecordBatchHeader {
    /// `validate`, answering as Kafka does for a client's batch: a CRC mismatch is `corruptBatch`
    /// (CORRUPT_MESSAGE, which clients retry), a whole batch with a matching CRC whose record count and last
    /// offset delta disagree is `LogEngineError.invalidRecord` (INVALID_RECORD: a retry cannot help).
    public func validateClientBatch(in bytes: UnsafeRawBufferPointer, at offset: Int, maxBatchBytes: Int) throws {
        do {
            try validate(in: bytes, at: offset, maxBatchBytes: maxBatchBytes)
        } catch let error as LogEngineError where error.code == .corruptBatch
            && hasIntactCRCButBadCount(in: bytes, at: offset)
        {
            throw LogEngineError.invalidRecord(error.message, context: error.context)
        }
    }

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
