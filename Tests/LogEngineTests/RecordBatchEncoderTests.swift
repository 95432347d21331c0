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
