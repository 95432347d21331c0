import CZlib

/// Message sets in message format v0 and v1 (magic 0 and 1), as Produce v0–v2 carry and Fetch v0–v3 return.
///
/// Layout of each entry (big-endian):
/// ```
/// offset      int64   (in a magic-1 compressed wrapper's inner set: relative, 0...n-1)
/// messageSize int32   (bytes after this field)
/// crc         uint32  CRC-32 (IEEE) of magic..end
/// magic       int8    0 or 1
/// attributes  int8    bits 0-2 compression codec, bit 3 timestamp type (v1; 1 = LogAppendTime)
/// timestamp   int64   (v1 only)
/// key         int32 length (-1 = null) + bytes
/// value       int32 length (-1 = null) + bytes; in a compressed wrapper: the compressed inner message set
/// ```
/// Thread-safety: stateless.
public enum LegacyMessageSet {
    /// What a decoded message set held.
    public struct Decoded: Sendable, Equatable {
        public var records: [DecodedRecord]
        /// The codec of the first compressed wrapper message, `.none` when no message was compressed.
        public var compression: CompressionCodec
        /// The highest magic seen.
        public var magic: Int8
    }

    static let logOverhead = 12
    static func headerSize(magic: Int8) -> Int { magic == 0 ? 14 : 22 }  // crc..timestamp + key/value lengths - 4

    /// Decodes every message (unwrapping compressed wrappers) and checks every CRC.
    /// Throws `corruptBatch` on a bad CRC, magic, truncation or nested compression, and `recordTooLarge` when
    /// the decompressed wrappers and the decoded messages together would take more than `maxDecompressedBytes`
    /// (one budget for the whole set, see `DecompressionBudget`: many small bombs add up).
    public static func decode(
        _ bytes: UnsafeRawBufferPointer, maxDecompressedBytes: Int = CompressionCodec.defaultMaxDecompressedBytes
    ) throws -> Decoded {
        var budget = DecompressionBudget(limit: maxDecompressedBytes)
        return try decode(bytes, budget: &budget)
    }

    /// As `decode(_:maxDecompressedBytes:)`, charging to `budget`, which the caller shares with the rest of its
    /// request's work.
    public static func decode(_ bytes: UnsafeRawBufferPointer, budget: inout DecompressionBudget) throws -> Decoded {
        var decoded = Decoded(records: [], compression: .none, magic: 0)
        try decodeSet(bytes, inner: false, into: &decoded, budget: &budget)
        guard !decoded.records.isEmpty else { throw LogEngineError(.corruptBatch, "empty message set") }
        return decoded
    }

    private static func decodeSet(
        _ bytes: UnsafeRawBufferPointer, inner: Bool, into decoded: inout Decoded,
        wrapperTimestamp: Int64? = nil, budget: inout DecompressionBudget
    ) throws {
        var reader = ByteReader(bytes)
        while reader.remaining > 0 {
            let offset = try reader.int64("message offset")
            let size = try reader.int32("message size")
            guard size >= 14, Int(size) <= reader.remaining else {
                throw LogEngineError(.corruptBatch, "message size \(size) out of bounds", context: "offset \(offset)")
            }
            let end = reader.position + Int(size)
            var message = ByteReader(bytes, from: reader.position, end: end)
            let crc = try message.uint32("message crc")
            let computed = crc32IEEE(UnsafeRawBufferPointer(rebasing: bytes[message.position..<end]))
            guard computed == crc else {
                throw LogEngineError(.corruptBatch, "message CRC mismatch: stored \(crc), computed \(computed)")
            }
            let magic = try message.int8("magic")
            guard magic == 0 || magic == 1 else {
                throw LogEngineError(.corruptBatch, "unsupported magic \(magic) in a message set")
            }
            decoded.magic = max(decoded.magic, magic)
            let attributes = try message.int8("attributes")
            var timestamp = magic == 1 ? try message.int64("timestamp") : DecodedRecord.noTimestamp
            let key = try message.int32Bytes("key")
            let value = try message.int32Bytes("value")
            let codec = try CompressionCodec(attributes: Int(attributes))
            if codec == .none {
                try budget.charge(
                    DecompressionBudget.decodedRecordOverhead + (key?.count ?? 0) + (value?.count ?? 0), "decoded messages")
                if let wrapperTimestamp { timestamp = wrapperTimestamp }
                decoded.records.append(DecodedRecord(offset: offset, timestamp: timestamp, key: key, value: value))
            } else {
                guard !inner else { throw LogEngineError(.corruptBatch, "nested compressed message") }
                guard let value else { throw LogEngineError(.corruptBatch, "compressed message without a value") }
                if decoded.compression == .none { decoded.compression = codec }
                let plain = try value.withUnsafeBytes {
                    try budget.decompress(codec, $0, legacyLZ4HeaderChecksum: magic == 0)
                }
                let logAppendTime = magic == 1 && attributes & 0x08 != 0
                try plain.withUnsafeBytes {
                    try decodeSet(
                        $0, inner: true, into: &decoded, wrapperTimestamp: logAppendTime ? timestamp : nil,
                        budget: &budget)
                }
            }
            reader.position = end
        }
    }

    /// Encodes `records` as uncompressed messages of `magic` (0 or 1) with their own offsets; `logAppendTime`
    /// sets the timestamp type bit (magic 1). Headers are dropped: the format has none.
    public static func encode(_ records: [DecodedRecord], magic: Int8, logAppendTime: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        for record in records {
            appendMessage(
                to: &out, offset: record.offset, magic: magic, attributes: magic == 1 && logAppendTime ? 0x08 : 0,
                timestamp: record.timestamp, key: record.key, value: record.value)
        }
        return out
    }

    /// Encodes `records` in one compressed wrapper message of `magic` (for tests and tools): inner offsets are
    /// relative for magic 1 and absolute for magic 0; the wrapper carries the last offset and the max timestamp.
    public static func encodeCompressed(
        _ records: [DecodedRecord], magic: Int8, compression: CompressionCodec
    ) throws -> [UInt8] {
        guard let first = records.first, let last = records.last else { return [] }
        var inner: [UInt8] = []
        for (index, record) in records.enumerated() {
            appendMessage(
                to: &inner, offset: magic == 1 ? Int64(index) : record.offset, magic: magic, attributes: 0,
                timestamp: record.timestamp, key: record.key, value: record.value)
        }
        var out: [UInt8] = []
        let timestamp = records.map(\.timestamp).max() ?? first.timestamp
        appendMessage(
            to: &out, offset: last.offset, magic: magic, attributes: Int8(compression.rawValue),
            timestamp: timestamp, key: nil, value: try compression.compress(inner))
        return out
    }

    /// The size of one uncompressed message of `magic` with this key and value, offset and size fields included.
    public static func messageSize(magic: Int8, key: [UInt8]?, value: [UInt8]?) -> Int {
        logOverhead + headerSize(magic: magic) + (key?.count ?? 0) + (value?.count ?? 0)
    }

    static func appendMessage(
        to out: inout [UInt8], offset: Int64, magic: Int8, attributes: Int8, timestamp: Int64, key: [UInt8]?,
        value: [UInt8]?
    ) {
        out.appendInt64BE(offset)
        let sizeAt = out.count
        out.appendInt32BE(0)
        let crcAt = out.count
        out.appendInt32BE(0)
        out.append(UInt8(bitPattern: magic))
        out.append(UInt8(bitPattern: attributes))
        if magic >= 1 { out.appendInt64BE(timestamp) }
        for field in [key, value] {
            if let field {
                out.appendInt32BE(Int32(field.count))
                out += field
            } else {
                out.appendInt32BE(-1)
            }
        }
        let crc = out.withUnsafeBytes { crc32IEEE(UnsafeRawBufferPointer(rebasing: $0[(crcAt + 4)...])) }
        let size = Int32(out.count - sizeAt - 4)
        out.withUnsafeMutableBytes { bytes in
            bytes.storeInt32BE(size, at: sizeAt)
            bytes.storeUInt32BE(crc, at: crcAt)
        }
    }

    /// CRC-32 (IEEE 802.3, as zlib computes it).
    static func crc32IEEE(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return 0 }
        return UInt32(crc32(0, base.assumingMemoryBound(to: Bytef.self), uInt(bytes.count)))
    }
}
