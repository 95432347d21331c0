import LogEngine
import NIOCore

/// Builds Kafka record batches v2 of identical records for the load generator, through LogEngine's
/// `RecordBatchEncoder` (the broker's own batch writer).
///
/// Every record has a null key, the same `payload` as value, timestamp delta 0 and no headers. The records
/// section of a batch depends only on the record count, so it is encoded (and compressed) once per count and
/// reused; each batch then gets its own base timestamp and CRC-32C, as a producer would send it.
///
/// Thread-safety: a value type; use one per producer.
struct BatchEncoder {
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
    var recordSize: Int { RecordBatchEncoder.recordsSection([RecordBatchEncoder.Record(value: payload)]).count }

    /// A batch of `count` records with base and max timestamp `timestamp` (ms).
    mutating func batch(count: Int, timestamp: Int64, allocator: ByteBufferAllocator) throws -> ByteBuffer {
        let section = try records(count: count)
        let encoder = RecordBatchEncoder(baseOffset: 0, baseTimestamp: timestamp, compression: codec)
        let bytes = try encoder.encode(section: section, recordCount: count, maxTimestamp: timestamp)
        var buffer = allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        return buffer
    }

    private mutating func records(count: Int) throws -> [UInt8] {
        if let cached = sections[count] { return cached }
        let body = RecordBatchEncoder.recordsSection(
            Array(repeating: RecordBatchEncoder.Record(value: payload), count: count))
        let section = codec == .none ? body : try codec.compress(body)
        if sections.count > 64 { sections.removeAll() }
        sections[count] = section
        return section
    }
}
