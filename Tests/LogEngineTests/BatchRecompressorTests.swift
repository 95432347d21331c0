import NIOCore
import Testing
@testable import LogEngine

struct BatchRecompressorTests {
    private func batches() -> [UInt8] {
        let builder = RecordBatchEncoder(baseTimestamp: 1_700_000_000_000)
        return builder.build(count: 5) { Array("value-\($0)".utf8) } + builder.build(count: 2) { Array("more-\($0)".utf8) }
    }

    private func headers(_ buffer: ByteBuffer) throws -> [RecordBatchHeader] {
        try buffer.withUnsafeReadableBytes { bytes in
            var result: [RecordBatchHeader] = []
            var offset = 0
            while offset < bytes.count {
                let header = try RecordBatchHeader(parsing: bytes, at: offset)
                try header.validate(in: bytes, at: offset)
                result.append(header)
                offset += header.totalSize
            }
            return result
        }
    }

    @Test func recompress_changesOnlyTheCodecAndKeepsRecordsAndFields() throws {
        let original = ByteBuffer(bytes: batches())
        for codec in [CompressionCodec.gzip, .snappy, .lz4, .zstd] {
            let compressed = try #require(try BatchRecompressor.recompress(original, to: codec))
            let compressedHeaders = try headers(compressed)
            #expect(compressedHeaders.map(\.compressionCodec) == [codec.rawValue, codec.rawValue])
            #expect(compressedHeaders.map(\.recordCount) == [5, 2])
            #expect(try BatchRecompressor.recompress(compressed, to: codec) == nil)
            let back = try #require(try BatchRecompressor.recompress(compressed, to: .none))
            #expect(Array(back.readableBytesView) == Array(original.readableBytesView))
        }
    }

    @Test func recompress_rejectsACorruptBatchInsteadOfReSigningIt() {
        var bytes = batches()
        bytes[70] ^= 0xFF
        #expect(throws: LogEngineError.self) { try BatchRecompressor.recompress(ByteBuffer(bytes: bytes), to: .zstd) }
    }
}
