import NIOCore
import Testing
@testable import LogEngine

struct RecordBatchEncoderTests {
    @Test func build_encodesRecordsAsKafkaDoes() throws {
        let bytes = RecordBatchEncoder(baseTimestamp: 0).build([
            .init(key: nil, value: [0x41], timestampDelta: 0),
            .init(key: [0x6B], value: nil, timestampDelta: 300),
        ])
        let header = try #require(try Batches.headers(bytes).first)
        #expect(header.recordCount == 2 && header.lastOffsetDelta == 1 && header.maxTimestamp == 300)
        // Record 0: length 7, attributes 0, ts delta 0, offset delta 0, key -1 (null), value length 1, 'A', 0 headers.
        #expect(Array(bytes[61..<69]) == [0x0E, 0x00, 0x00, 0x00, 0x01, 0x02, 0x41, 0x00])
        // Record 1: ts delta 300 is zigzag 600 = varint 0xD8 0x04; offset delta 1 = 0x02; key len 1 = 0x02.
        #expect(bytes.count == 78)
        #expect(Array(bytes[69..<78]) == [0x10, 0x00, 0xD8, 0x04, 0x02, 0x02, 0x6B, 0x01, 0x00])
    }

    @Test func encode_writesEveryHeaderFieldAndCompresses() throws {
        var encoder = RecordBatchEncoder(baseOffset: 40, baseTimestamp: 1000, compression: .lz4)
        encoder.partitionLeaderEpoch = 3
        encoder.attributes = RecordBatchHeader.timestampTypeBit
        encoder.producerId = 7
        encoder.producerEpoch = 2
        encoder.baseSequence = 11
        let records: [RecordBatchEncoder.Record] = [
            .init(key: [1], value: [2], timestampDelta: 5, headers: [.init(key: [3], value: nil)]),
            .init(value: nil, timestampDelta: 2),
        ]
        let bytes = try encoder.encode(records)
        try bytes.withUnsafeBytes { raw in
            let header = try RecordBatchHeader(parsing: raw, at: 0)
            try header.validate(in: raw, at: 0)
            #expect(header.baseOffset == 40 && header.partitionLeaderEpoch == 3)
            #expect(header.compressionCodec == CompressionCodec.lz4.rawValue && header.isLogAppendTime)
            #expect(header.producerId == 7 && header.producerEpoch == 2 && header.baseSequence == 11)
            #expect(header.baseTimestamp == 1000 && header.maxTimestamp == 1005 && header.recordCount == 2)
            let decoded = try header.decodeRecords(in: raw, at: 0)
            #expect(decoded.map(\.key) == [[1], nil])
            #expect(decoded[0].headers == [.init(key: [3], value: nil)])
        }
        // The same batch from a section encoded and compressed beforehand (portask-bench's path).
        let section = try CompressionCodec.lz4.compress(RecordBatchEncoder.recordsSection(records))
        #expect(try encoder.encode(section: section, recordCount: 2, maxTimestamp: 1005) == bytes)
    }

    @Test func encode_decodedRecords_matchesRecordEncoding() throws {
        let decoded = [
            DecodedRecord(offset: 0, timestamp: 500, key: nil, value: [1], headers: []),
            DecodedRecord(offset: 1, timestamp: 520, key: [2], value: nil, headers: [.init(key: [9], value: [8])]),
        ]
        let bytes = try RecordBatchEncoder.encode(decoded, compression: .none, baseOffset: 4)
        let direct = RecordBatchEncoder(baseOffset: 4, baseTimestamp: 500).build([
            .init(value: [1]), .init(key: [2], value: nil, timestampDelta: 20, headers: [.init(key: [9], value: [8])]),
        ])
        #expect(bytes == direct)
        #expect(throws: LogEngineError.self) { try RecordBatchEncoder(baseTimestamp: 0).encode([]) }
    }

    @Test func readVarint_decodesWhatBuilderEncodes() {
        for value: Int64 in [0, 1, -1, 63, -64, 300, Int64(Int32.max), Int64.min, Int64.max] {
            var bytes: [UInt8] = []
            RecordBatchEncoder.appendVarint(value, to: &bytes)
            var cursor = 0
            let decoded = bytes.withUnsafeBytes { RecordBatchHeader.readVarint($0, &cursor, end: bytes.count) }
            #expect(decoded == value)
            #expect(cursor == bytes.count)
        }
    }

    @Test func checksum_ofByteBufferMatchesArray() {
        let bytes = Batches.bytes()
        #expect(CRC32C.checksum(ByteBuffer(bytes: bytes)) == CRC32C.checksum(bytes))
    }
}
