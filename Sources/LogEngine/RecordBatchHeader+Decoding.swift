// Decoding the records of a record batch v2 (decompressing when needed), for format down-conversion.
//
// Record layout (inside the possibly compressed records section, from byte 61 of the batch):
//   length varint, attributes int8, timestampDelta varlong, offsetDelta varint, keyLength varint, key,
//   valueLength varint, value, headerCount varint, then per header: keyLength varint, key, valueLength varint,
//   value. Lengths of -1 mean null.

extension RecordBatchHeader {
    /// The records of the batch at `offset` in `bytes` (already validated), with absolute offsets and
    /// timestamps (the batch's max timestamp for every record under LogAppendTime).
    /// Throws `corruptBatch` on malformed records or compressed data.
    public func decodeRecords(
        in bytes: UnsafeRawBufferPointer, at offset: Int,
        maxDecompressedBytes: Int = CompressionCodec.defaultMaxDecompressedBytes
    ) throws -> [DecodedRecord] {
        let start = offset + Self.size
        let end = offset + totalSize
        guard end <= bytes.count, start <= end else {
            throw LogEngineError(.corruptBatch, "batch extends past the buffer", context: "position \(offset)")
        }
        let body = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
        let codec = try CompressionCodec(attributes: Int(attributes))
        if codec == .none { return try decodeRecordBodies(body) }
        let plain = try codec.decompress(body, maxBytes: maxDecompressedBytes)
        return try plain.withUnsafeBytes { try decodeRecordBodies($0) }
    }

    private func decodeRecordBodies(_ body: UnsafeRawBufferPointer) throws -> [DecodedRecord] {
        var reader = ByteReader(body)
        var records: [DecodedRecord] = []
        records.reserveCapacity(Int(max(0, min(recordCount, 1 << 16))))
        for _ in 0..<Int(max(recordCount, 0)) {
            let length = try reader.varint("record length")
            guard length >= 0, length <= Int64(reader.remaining) else {
                throw LogEngineError(.corruptBatch, "record length \(length) out of bounds")
            }
            let recordEnd = reader.position + Int(length)
            var record = ByteReader(body, from: reader.position, end: recordEnd)
            _ = try record.int8("record attributes")
            let timestampDelta = try record.varint("timestamp delta")
            let offsetDelta = try record.varint("offset delta")
            let key = try record.varintBytes("record key")
            let value = try record.varintBytes("record value")
            let headerCount = try record.varint("header count")
            guard headerCount >= 0, headerCount <= Int64(record.remaining) else {
                throw LogEngineError(.corruptBatch, "invalid header count \(headerCount)")
            }
            var headers: [DecodedRecord.Header] = []
            for _ in 0..<Int(headerCount) {
                guard let headerKey = try record.varintBytes("header key") else {
                    throw LogEngineError(.corruptBatch, "null header key")
                }
                headers.append(.init(key: headerKey, value: try record.varintBytes("header value")))
            }
            let timestamp = isLogAppendTime ? maxTimestamp : baseTimestamp &+ timestampDelta
            records.append(DecodedRecord(
                offset: baseOffset &+ offsetDelta, timestamp: timestamp, key: key, value: value, headers: headers))
            reader.position = recordEnd
        }
        return records
    }
}
