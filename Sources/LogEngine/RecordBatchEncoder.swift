/// The one writer of Kafka record batches v2: the broker's internal writers (offsets topic), format
/// up-conversion (message format v0/v1 → v2), portask-bench and the test fixtures all encode through it.
///
/// The header fields are this value's properties; `encode` lays out the records section, compresses it with
/// `compression` and writes the 61-byte header (layout: see `RecordBatchHeader`) with a correct CRC-32C. The codec
/// bits of the attributes come from `compression` (OR-ed into `attributes`, which carries the timestamp type,
/// transactional and control bits, or forged codec bits for tests). Each record is encoded as Kafka does:
/// length (zigzag varint), attributes int8 = 0, timestampDelta (zigzag varlong), offsetDelta (zigzag varint, the
/// record's index), key length + key, value length + value (length -1 for null), header count, then each header's
/// key and value the same way. The max timestamp is the base timestamp plus the largest delta (or the
/// `maxTimestamp` given to `encode(section:...)`).
///
/// Thread-safety: a value type.
public struct RecordBatchEncoder: Sendable {
    /// One record: key, value, headers and timestamp delta from the batch's base timestamp.
    public struct Record: Sendable, Equatable {
        public var key: [UInt8]?
        public var value: [UInt8]?
        public var timestampDelta: Int64
        public var headers: [DecodedRecord.Header]

        public init(
            key: [UInt8]? = nil, value: [UInt8]?, timestampDelta: Int64 = 0, headers: [DecodedRecord.Header] = []
        ) {
            self.key = key
            self.value = value
            self.timestampDelta = timestampDelta
            self.headers = headers
        }
    }

    public var baseOffset: Int64 = 0
    public var baseTimestamp: Int64 = 0
    public var partitionLeaderEpoch: Int32 = -1
    public var compression: CompressionCodec = .none
    /// Attribute bits besides the codec's (timestamp type 0x08, transactional 0x10, control 0x20).
    public var attributes: Int16 = 0
    public var producerId: Int64 = -1
    public var producerEpoch: Int16 = -1
    public var baseSequence: Int32 = -1

    public init(baseOffset: Int64 = 0, baseTimestamp: Int64 = 0, compression: CompressionCodec = .none) {
        self.baseOffset = baseOffset
        self.baseTimestamp = baseTimestamp
        self.compression = compression
    }

    /// One batch holding `records` (at least one). Throws `invalidArgument` for no record, `recordTooLarge` when
    /// the batch does not fit its 32-bit length, and what compressing throws.
    public func encode(_ records: [Record]) throws -> [UInt8] {
        guard !records.isEmpty else {
            throw LogEngineError(.invalidArgument, "a record batch needs at least one record")
        }
        let section = Self.recordsSection(records)
        let maxDelta = records.map(\.timestampDelta).max() ?? 0
        return try encode(
            section: compression == .none ? section : try compression.compress(section), recordCount: records.count,
            maxTimestamp: baseTimestamp &+ maxDelta)
    }

    /// One batch around a records section already encoded (and compressed with `compression`) holding
    /// `recordCount` records. Throws `recordTooLarge` when it does not fit a batch's 32-bit fields. The last offset
    /// delta is `recordCount - 1` unless given (compaction keeps a batch's offset range with fewer records).
    public func encode(
        section: [UInt8], recordCount: Int, maxTimestamp: Int64, lastOffsetDelta: Int32? = nil
    ) throws -> [UInt8] {
        guard let batchLength = Int32(exactly: RecordBatchHeader.size - RecordBatchHeader.logOverhead + section.count),
              let count = Int32(exactly: recordCount)
        else {
            throw LogEngineError(.recordTooLarge, "\(recordCount) records of \(section.count) bytes do not fit one batch")
        }
        var batch: [UInt8] = []
        batch.reserveCapacity(RecordBatchHeader.size + section.count)
        batch.appendInt64BE(baseOffset)
        batch.appendInt32BE(batchLength)
        batch.appendInt32BE(partitionLeaderEpoch)
        batch.append(UInt8(RecordBatchHeader.currentMagic))
        batch.appendInt32BE(0)  // crc, set below
        batch.appendInt16BE(attributes | Int16(compression.rawValue))
        batch.appendInt32BE(lastOffsetDelta ?? (max(count, 1) - 1))
        batch.appendInt64BE(baseTimestamp)
        batch.appendInt64BE(maxTimestamp)
        batch.appendInt64BE(producerId)
        batch.appendInt16BE(producerEpoch)
        batch.appendInt32BE(baseSequence)
        batch.appendInt32BE(count)
        batch += section
        batch.withUnsafeMutableBytes { out in
            let crc = RecordBatchHeader.computeCRC(in: UnsafeRawBufferPointer(out), at: 0, totalSize: out.count)
            out.storeUInt32BE(crc, at: RecordBatchHeader.crcOffset)
        }
        return batch
    }

    /// The uncompressed records section for `records`, offset deltas 0, 1, ...
    public static func recordsSection(_ records: [Record]) -> [UInt8] {
        var body: [UInt8] = []
        var encoded: [UInt8] = []
        for (index, record) in records.enumerated() {
            encoded.removeAll(keepingCapacity: true)
            encoded.append(0)  // attributes
            appendVarint(record.timestampDelta, to: &encoded)
            appendVarint(Int64(index), to: &encoded)
            appendBytes(record.key, to: &encoded)
            appendBytes(record.value, to: &encoded)
            appendVarint(Int64(record.headers.count), to: &encoded)
            for header in record.headers {
                appendBytes(header.key, to: &encoded)
                appendBytes(header.value, to: &encoded)
            }
            appendVarint(Int64(encoded.count), to: &body)
            body += encoded
        }
        return body
    }

    /// Fixtures: the bytes of one batch holding `records`, empty when they cannot be encoded (no record, more
    /// than a batch holds, or a failing codec).
    public func build(_ records: [Record]) -> [UInt8] {
        (try? encode(records)) ?? []
    }

    /// Fixtures: a batch of `count` records with values `value(i)`, timestamps `baseTimestamp + i`.
    public func build(count: Int, value: (Int) -> [UInt8]) -> [UInt8] {
        build((0..<count).map { Record(value: value($0), timestampDelta: Int64($0)) })
    }

    /// Decoded records (absolute timestamps, say from a v0/v1 message set) as one batch: base timestamp the
    /// first record's, offsets relative (the log assigns them), not idempotent, `compression` applied,
    /// LogAppendTime marked when `logAppendTime`.
    public static func encode(
        _ records: [DecodedRecord], compression: CompressionCodec, logAppendTime: Bool = false, baseOffset: Int64 = 0
    ) throws -> [UInt8] {
        guard let first = records.first else {
            throw LogEngineError(.invalidArgument, "a record batch needs at least one record")
        }
        var encoder = RecordBatchEncoder(baseOffset: baseOffset, baseTimestamp: first.timestamp, compression: compression)
        if logAppendTime { encoder.attributes |= RecordBatchHeader.timestampTypeBit }
        return try encoder.encode(records.map {
            Record(key: $0.key, value: $0.value, timestampDelta: $0.timestamp &- first.timestamp, headers: $0.headers)
        })
    }

    static func appendVarint(_ value: Int64, to bytes: inout [UInt8]) {
        var zigzag = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        while zigzag >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: zigzag) | 0x80)
            zigzag >>= 7
        }
        bytes.append(UInt8(zigzag))
    }

    static func appendBytes(_ value: [UInt8]?, to bytes: inout [UInt8]) {
        guard let value else {
            appendVarint(-1, to: &bytes)
            return
        }
        appendVarint(Int64(value.count), to: &bytes)
        bytes += value
    }
}
