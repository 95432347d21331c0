import NIOCore
@testable import LogEngine

/// Record batches built field by field, lies included, with a correct CRC: what a hostile client can send.
enum ForgedBatch {
    /// One record's bytes (without its length prefix), each field overridable.
    static func record(
        attributes: UInt8 = 0, timestampDelta: Int64 = 0, offsetDelta: Int64, keyLength: Int64? = nil,
        key: [UInt8]? = nil, valueLength: Int64? = nil, value: [UInt8]? = Array("v".utf8),
        headers: [(keyLength: Int64, key: [UInt8], value: [UInt8]?)] = [], headerCount: Int64? = nil
    ) -> [UInt8] {
        var bytes: [UInt8] = [attributes]
        RecordBatchEncoder.appendVarint(timestampDelta, to: &bytes)
        RecordBatchEncoder.appendVarint(offsetDelta, to: &bytes)
        RecordBatchEncoder.appendVarint(keyLength ?? Int64(key?.count ?? -1), to: &bytes)
        bytes += key ?? []
        RecordBatchEncoder.appendVarint(valueLength ?? Int64(value?.count ?? -1), to: &bytes)
        bytes += value ?? []
        RecordBatchEncoder.appendVarint(headerCount ?? Int64(headers.count), to: &bytes)
        for header in headers {
            RecordBatchEncoder.appendVarint(header.keyLength, to: &bytes)
            bytes += header.key
            RecordBatchEncoder.appendVarint(Int64(header.value?.count ?? -1), to: &bytes)
            bytes += header.value ?? []
        }
        return bytes
    }

    /// Records with length prefixes (`length` overrides the true length of the record at that index).
    static func section(_ records: [[UInt8]], lengths: [Int: Int64] = [:]) -> [UInt8] {
        var bytes: [UInt8] = []
        for (index, record) in records.enumerated() {
            RecordBatchEncoder.appendVarint(lengths[index] ?? Int64(record.count), to: &bytes)
            bytes += record
        }
        return bytes
    }

    /// `count` honest records with offset deltas 0..<count.
    static func honestRecords(_ count: Int, timestampDelta: (Int) -> Int64 = { Int64($0) }) -> [[UInt8]] {
        (0..<count).map { record(timestampDelta: timestampDelta($0), offsetDelta: Int64($0), value: Array("value-\($0)".utf8)) }
    }

    /// A batch whose records section is `section` (compressed with `codec`), claiming `recordCount` records and
    /// `lastOffsetDelta` (default `recordCount - 1`), with a valid CRC.
    static func batch(
        section: [UInt8], recordCount: Int32, lastOffsetDelta: Int32? = nil, codec: CompressionCodec = .none,
        attributes: Int16 = 0, baseTimestamp: Int64 = 1_700_000_000_000, maxTimestamp: Int64? = nil,
        producerId: Int64 = -1, producerEpoch: Int16 = -1, baseSequence: Int32 = -1
    ) throws -> [UInt8] {
        let body = codec == .none ? section : try codec.compress(section)
        var bytes: [UInt8] = []
        bytes.appendInt64BE(0)
        bytes.appendInt32BE(Int32(RecordBatchHeader.size - RecordBatchHeader.logOverhead + body.count))
        bytes.appendInt32BE(-1)
        bytes.append(2)
        bytes.appendInt32BE(0)
        bytes.appendInt16BE(attributes | Int16(codec.rawValue))
        bytes.appendInt32BE(lastOffsetDelta ?? recordCount &- 1)
        bytes.appendInt64BE(baseTimestamp)
        bytes.appendInt64BE(maxTimestamp ?? baseTimestamp)
        bytes.appendInt64BE(producerId)
        bytes.appendInt16BE(producerEpoch)
        bytes.appendInt32BE(baseSequence)
        bytes.appendInt32BE(recordCount)
        bytes += body
        fixCRC(&bytes)
        return bytes
    }

    /// Recomputes the CRC of the batch at the start of `bytes` (after field overwrites).
    static func fixCRC(_ bytes: inout [UInt8], at offset: Int = 0) {
        bytes.withUnsafeMutableBytes { raw in
            let size = Int(UnsafeRawBufferPointer(raw).int32BE(at: offset + 8)) + RecordBatchHeader.logOverhead
            guard size >= RecordBatchHeader.size, offset + size <= raw.count else { return }
            let crc = RecordBatchHeader.computeCRC(in: UnsafeRawBufferPointer(raw), at: offset, totalSize: size)
            raw.storeUInt32BE(crc, at: offset + RecordBatchHeader.crcOffset)
        }
    }

    /// The 61-byte batch of the issue: no records, a valid CRC, claiming `Int32.max` records.
    static func lyingEmptyBatch(recordCount: Int32 = .max) throws -> [UInt8] {
        try batch(section: [], recordCount: recordCount)
    }
}
