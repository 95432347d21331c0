// Decoding the records of a record batch v2 (decompressing when needed), for format down-conversion.
// Record layout and the checks applied: see `RecordValidator`.

extension RecordBatchHeader {
    /// The records of the batch at `offset` in `bytes` (already validated), with absolute offsets and
    /// timestamps (the batch's max timestamp for every record under LogAppendTime).
    /// Throws `corruptBatch` on malformed compressed data or records that disagree with the header (see
    /// `RecordValidator`) and `recordTooLarge` when decompressing or decoding would take more than
    /// `maxDecompressedBytes`.
    public func decodeRecords(
        in bytes: UnsafeRawBufferPointer, at offset: Int,
        maxDecompressedBytes: Int = CompressionCodec.defaultMaxDecompressedBytes
    ) throws -> [DecodedRecord] {
        var budget = DecompressionBudget(limit: maxDecompressedBytes)
        return try decodeRecords(in: bytes, at: offset, budget: &budget)
    }

    /// As `decodeRecords(in:at:maxDecompressedBytes:)`, charging the decompressed bytes and every decoded
    /// record (its key, value and header bytes plus `DecompressionBudget.decodedRecordOverhead`) to `budget`,
    /// which may be shared by the batches of one request.
    public func decodeRecords(
        in bytes: UnsafeRawBufferPointer, at offset: Int, budget: inout DecompressionBudget
    ) throws -> [DecodedRecord] {
        var records: [DecodedRecord] = []
        records.reserveCapacity(Int(max(0, min(recordCount, 1 << 12))))
        let base = baseOffset
        let appendTime = isLogAppendTime ? maxTimestamp : nil
        // The decompressed section and the decoded records are charged to one budget (a local copy: the visit
        // closure may not capture the inout parameter).
        var local = budget
        let section = try RecordValidator.recordsSection(self, in: bytes, at: offset)
        let codec = try CompressionCodec(attributes: Int(attributes))
        let plain = codec == .none ? nil : try local.decompress(codec, section)
        let visit: (RecordValidator.Record) throws -> Void = { record in
            var size = DecompressionBudget.decodedRecordOverhead + (record.key?.count ?? 0) + (record.value?.count ?? 0)
            for header in record.headers {
                size += DecompressionBudget.decodedRecordOverhead / 2 + header.key.count + (header.value?.count ?? 0)
            }
            try local.charge(size)
            records.append(DecodedRecord(
                offset: base &+ record.offsetDelta, timestamp: appendTime ?? record.timestamp,
                key: record.key.map { Array($0) }, value: record.value.map { Array($0) },
                headers: record.headers.map { .init(key: Array($0.key), value: $0.value.map { Array($0) }) }))
        }
        do {
            if let plain {
                _ = try plain.withUnsafeBytes { try RecordValidator.walkRecords($0, self, offsetGaps: true, visit: visit) }
            } else {
                _ = try RecordValidator.walkRecords(section, self, offsetGaps: true, visit: visit)
            }
        } catch let error as LogEngineError where error.code == .invalidArgument || error.code == .invalidRecord {
            // Decoded batches are stored data, not a request: malformed records are a corrupt batch here.
            throw LogEngineError(.corruptBatch, error.message, context: error.context)
        }
        budget = local
        return records
    }
}
