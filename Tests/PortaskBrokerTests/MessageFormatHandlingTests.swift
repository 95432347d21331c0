import LogEngine
import NIOCore
import Testing
@testable import PortaskBroker

struct MessageFormatHandlingTests {
    static let records = [
        DecodedRecord(offset: 0, timestamp: 5, key: Array("k".utf8), value: Array("v".utf8)),
        DecodedRecord(offset: 1, timestamp: 6, key: nil, value: Array("w".utf8)),
    ]

    private func code(_ body: () throws -> Void) -> LogEngineError.Code? {
        do {
            try body()
            return nil
        } catch let error as LogEngineError {
            return error.code
        } catch {
            return nil
        }
    }

    @Test func produceRecordBatches_upConvertsMessageSetsForVersionsBelowThree() throws {
        for version: Int16 in 0...2 {
            let legacy = ByteBuffer(bytes: try LegacyMessageSet.encodeCompressed(Self.records, magic: 1, compression: .gzip))
            let converted = try ProduceHandler.recordBatches(legacy, version: version)
            try converted.withUnsafeReadableBytes { bytes in
                let header = try RecordBatchHeader(parsing: bytes, at: 0)
                try header.validate(in: bytes, at: 0)
                #expect(header.totalSize == bytes.count)
                #expect(header.compressionCodec == CompressionCodec.gzip.rawValue)
                #expect(try header.decodeRecords(in: bytes, at: 0) == Self.records)
            }
        }
    }

    @Test func produceRecordBatches_passesBatchesThroughForVersionThreeOn() throws {
        let batch = ByteBuffer(bytes: try RecordBatchEncoder.encode(Self.records, compression: .none))
        #expect(try ProduceHandler.recordBatches(batch, version: 3) == batch)
        #expect(try ProduceHandler.recordBatches(batch, version: 11) == batch)
        #expect(try ProduceHandler.recordBatches(batch, version: 2) == batch)
    }

    @Test func produceRecordBatches_rejectsOldFormatsFromVersionThreeOnAndGarbage() throws {
        let legacy = ByteBuffer(bytes: LegacyMessageSet.encode(Self.records, magic: 1))
        #expect(code { _ = try ProduceHandler.recordBatches(legacy, version: 3) } == .invalidArgument)
        #expect(code { _ = try ProduceHandler.recordBatches(ByteBuffer(bytes: [1, 2, 3]), version: 0) } == .corruptBatch)
    }

    @Test func fetchMessageFormat_followsTheRequestVersion() {
        #expect(FetchHandler.messageFormat(forVersion: 0) == 0)
        #expect(FetchHandler.messageFormat(forVersion: 1) == 0)
        #expect(FetchHandler.messageFormat(forVersion: 2) == 1)
        #expect(FetchHandler.messageFormat(forVersion: 3) == 1)
        #expect(FetchHandler.firstRecordBatchVersion == 4)
    }
}
