import LogEngine
import NIOCore

/// Builds Kafka record batches v2 of identical records for the load generator.
///
/// Every record has a null key, the same `payload` as value, timestamp delta 0 and no headers, exactly as
/// Kafka encodes records (zigzag varint lengths). The records section of a batch depends only on the record
/// count, so it is encoded (and compressed) once per count and reused; each batch then gets its own base
/// timestamp and CRC-32C (over attributes..end, via LogEngine's `CRC32C`), as a producer would send it.
///
/// Layout (big-endian): baseOffset int64 @0, batchLength int32 @8, partitionLeaderEpoch int32 @12, magic int8 @16,
/// crc uint32 @17, attributes int16 @21, lastOffsetDelta int32 @23, baseTimestamp int64 @27, maxTimestamp int64
/// @35, producerId int64 @43, producerEpoch int16 @51, baseSequence int32 @53, recordCount int32 @57, records @61.
///
/// Thread-safety: a value type; use one per producer.
struct BatchEncoder {
    static let headerSize = 61

    let payload: [UInt8]
    let codec: CompressionCodec
    private var sections: [Int: [UInt8]] = [:]

    init(messageSize: Int, codec: CompressionCodec) {
        payload = Self.makePayload(size: messageSize)
        self.codec = codec
    }

    /// A deterministic, moderately compressible payload (letters from a small alphabet, pseudo-random order),
    /// the same bytes `Benchmarks/rdkafka_driver.c` sends.
    static func makePayload(size: Int) -> [UInt8] {
        var state: UInt32 = 0x2545_F491
        return (0..<size).map { _ in
            state = state &* 1_103_515_245 &+ 12345
            return UInt8(ascii: "a") + UInt8((state >> 16) % 16)
        }
    }

    /// The encoded size of one record with this payload (length prefix included).
    var recordSize: Int {
        var body: [UInt8] = []
        Self.appendRecord(offsetDelta: 0, payload: payload, to: &body)
        return body.count
    }

    /// A batch of `count` records with base and max timestamp `timestamp` (ms).
    mutating func batch(count: Int, timestamp: Int64, allocator: ByteBufferAllocator) throws -> ByteBuffer {
        let section = try records(count: count)
        let total = Self.headerSize + section.count
        var buffer = allocator.buffer(capacity: total)
        buffer.writeInteger(Int64(0))
        buffer.writeInteger(Int32(total - 12))
        buffer.writeInteger(Int32(-1))  // partitionLeaderEpoch
        buffer.writeInteger(Int8(2))  // magic
        buffer.writeInteger(UInt32(0))  // crc, set below
        buffer.writeInteger(Int16(codec.rawValue))
        buffer.writeInteger(Int32(count - 1))
        buffer.writeInteger(timestamp)
        buffer.writeInteger(timestamp)
        buffer.writeInteger(Int64(-1))  // producerId
        buffer.writeInteger(Int16(-1))  // producerEpoch
        buffer.writeInteger(Int32(-1))  // baseSequence
        buffer.writeInteger(Int32(count))
        buffer.writeBytes(section)
        let crc = buffer.withUnsafeReadableBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[21...])) }
        buffer.setInteger(crc, at: buffer.readerIndex + 17)
        return buffer
    }

    private mutating func records(count: Int) throws -> [UInt8] {
        if let cached = sections[count] { return cached }
        var body: [UInt8] = []
        body.reserveCapacity(count * (payload.count + 8))
        for index in 0..<count { Self.appendRecord(offsetDelta: index, payload: payload, to: &body) }
        let section = codec == .none ? body : try codec.compress(body)
        if sections.count > 64 { sections.removeAll() }
        sections[count] = section
        return section
    }

    private static func appendRecord(offsetDelta: Int, payload: [UInt8], to bytes: inout [UInt8]) {
        var record: [UInt8] = [0]  // attributes
        appendVarint(0, to: &record)  // timestampDelta
        appendVarint(Int64(offsetDelta), to: &record)
        appendVarint(-1, to: &record)  // null key
        appendVarint(Int64(payload.count), to: &record)
        record += payload
        appendVarint(0, to: &record)  // header count
        appendVarint(Int64(record.count), to: &bytes)
        bytes += record
    }

    private static func appendVarint(_ value: Int64, to bytes: inout [UInt8]) {
        var zigzag = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        while zigzag >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: zigzag) | 0x80)
            zigzag >>= 7
        }
        bytes.append(UInt8(zigzag))
    }
}
