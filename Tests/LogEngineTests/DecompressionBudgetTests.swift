import Foundation
import NIOCore
import Testing
@testable import LogEngine

/// Decompression bombs against the decoding paths: up-conversion, down-conversion, recompression.
struct DecompressionBudgetTests {
    /// A v0/v1 message set of `wrappers` gzip wrapper messages, each holding `perWrapper` messages of
    /// `valueSize` zero bytes: a few KB on the wire, megabytes decoded.
    private func legacyBomb(wrappers: Int, perWrapper: Int, valueSize: Int, magic: Int8 = 1) throws -> [UInt8] {
        var set: [UInt8] = []
        for wrapper in 0..<wrappers {
            let records = (0..<perWrapper).map {
                DecodedRecord(offset: Int64(wrapper * perWrapper + $0), timestamp: 1_700_000_000_000,
                              value: [UInt8](repeating: 0, count: valueSize))
            }
            set += try LegacyMessageSet.encodeCompressed(records, magic: magic, compression: .gzip)
        }
        return set
    }

    @Test func upConvert_whenManyGzipWrappersExceedTheBudget_failsWithRecordTooLarge() throws {
        // 64 wrappers of 1 MiB each: every one alone is under the budget, together they are not.
        let bomb = try legacyBomb(wrappers: 64, perWrapper: 16, valueSize: 64 << 10)
        #expect(bomb.count < 200_000)
        let error = try #require(throws: LogEngineError.self) {
            try bomb.withUnsafeBytes { try MessageFormatConverter.upConvert($0, maxDecompressedBytes: 8 << 20) }
        }
        #expect(error.code == .recordTooLarge)
        let small = try legacyBomb(wrappers: 2, perWrapper: 4, valueSize: 1024)
        let converted = try small.withUnsafeBytes { try MessageFormatConverter.upConvert($0, maxDecompressedBytes: 1 << 20) }
        #expect(try Batches.headers(converted).first?.recordCount == 8)
    }

    @Test func upConvert_byDefault_stopsAGzipBombAt64MiB() throws {
        let bomb = try legacyBomb(wrappers: 100, perWrapper: 16, valueSize: 64 << 10)  // 100 MiB from ~100 KB
        let error = try #require(throws: LogEngineError.self) {
            try bomb.withUnsafeBytes { try MessageFormatConverter.upConvert($0) }
        }
        #expect(error.code == .recordTooLarge)
        #expect(error.message.contains("\(DecompressionBudget.minimumAppendLimit)"))
    }

    @Test func legacyDecode_chargesEveryTinyMessage() throws {
        // 20 000 empty messages: little decompressed data, but each decoded record costs memory.
        let bomb = try legacyBomb(wrappers: 1, perWrapper: 20_000, valueSize: 0)
        let error = try #require(throws: LogEngineError.self) {
            try bomb.withUnsafeBytes { try LegacyMessageSet.decode($0, maxDecompressedBytes: 1 << 20) }
        }
        #expect(error.code == .recordTooLarge)
    }

    @Test func decodeRecords_whenRecordsOutgrowTheBudget_failsWithRecordTooLarge() throws {
        let records = (0..<5000).map { DecodedRecord(offset: Int64($0), timestamp: 0, value: [UInt8](repeating: 1, count: 200)) }
        let batch = try RecordBatchEncoder.encode(records, compression: .zstd)
        let header = try #require(try Batches.headers(batch).first)
        let error = try #require(throws: LogEngineError.self) {
            try batch.withUnsafeBytes { try header.decodeRecords(in: $0, at: 0, maxDecompressedBytes: 512 << 10) }
        }
        #expect(error.code == .recordTooLarge)
        #expect(try batch.withUnsafeBytes { try header.decodeRecords(in: $0, at: 0) }.count == 5000)
    }

    @Test func downConvert_whenBudgetRunsOut_returnsWhatWasConverted() throws {
        var batches: [UInt8] = []
        for index in 0..<4 {
            let records = (0..<100).map {
                DecodedRecord(offset: Int64(index * 100 + $0), timestamp: 0, value: [UInt8](repeating: 2, count: 1000))
            }
            batches += try RecordBatchEncoder.encode(records, compression: .lz4, baseOffset: Int64(index * 100))
        }
        let converted = try batches.withUnsafeBytes {
            try MessageFormatConverter.downConvert(
                $0, toMagic: 1, fromOffset: 0, maxBytes: 1 << 30, maxDecompressedBytes: 300_000)
        }
        #expect(converted.nextOffset > 0 && converted.nextOffset < 400)
        let decoded = try converted.bytes.withUnsafeBytes { try LegacyMessageSet.decode($0) }
        #expect(Int64(decoded.records.count) == converted.nextOffset)
        let error = try #require(throws: LogEngineError.self) {
            try batches.withUnsafeBytes {
                try MessageFormatConverter.downConvert($0, toMagic: 1, fromOffset: 0, maxBytes: 1 << 30, maxDecompressedBytes: 1000)
            }
        }
        #expect(error.code == .recordTooLarge)
    }

    @Test func recompress_whenDecompressionExceedsTheBudget_failsWithRecordTooLarge() throws {
        let records = (0..<64).map { DecodedRecord(offset: Int64($0), timestamp: 0, value: [UInt8](repeating: 0, count: 64 << 10)) }
        let batch = try RecordBatchEncoder.encode(records, compression: .gzip)
        let error = try #require(throws: LogEngineError.self) {
            try BatchRecompressor.recompress(ByteBuffer(bytes: batch + batch), to: .zstd, maxDecompressedBytes: 6 << 20)
        }
        #expect(error.code == .recordTooLarge)
        #expect(try BatchRecompressor.recompress(ByteBuffer(bytes: batch), to: .zstd, maxDecompressedBytes: 6 << 20) != nil)
    }

    @Test func codecs_refuseOutputBeyondTheirLimit_withRecordTooLarge() throws {
        let big = [UInt8](repeating: 0, count: 1 << 20)
        for codec in CompressionCodec.allCases {
            let compressed = try codec.compress(big)
            let error = try #require(throws: LogEngineError.self) { try codec.decompress(compressed, maxBytes: 1000) }
            #expect(error.code == .recordTooLarge, "\(codec)")
        }
    }
}
