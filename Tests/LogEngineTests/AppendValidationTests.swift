import Foundation
import NIOCore
import Testing
@testable import LogEngine

/// Client batches checked record by record against their headers on append (Kafka's LogValidator).
struct AppendValidationTests {
    private func openLog(_ directory: TemporaryDirectory, config: LogConfig = smallConfig()) throws -> PartitionLog {
        try PartitionLog(directory: directory.path, config: config)
    }

    /// The error code of appending `bytes` to a fresh log, nil when accepted.
    private func appendCode(
        _ bytes: [UInt8], origin: AppendOrigin = .client, budget: Int? = nil, config: LogConfig = smallConfig()
    ) throws -> LogEngineError.Code? {
        let directory = TemporaryDirectory()
        let log = try openLog(directory, config: config)
        do {
            try log.append(ByteBuffer(bytes: bytes), origin: origin, decompressionBudget: budget)
            return nil
        } catch let error as LogEngineError {
            #expect(log.logEndOffset == 0)
            return error.code
        }
    }

    @Test func append_whenRecordCountLies_isRejected() throws {
        let section = ForgedBatch.section(ForgedBatch.honestRecords(3))
        #expect(try appendCode(ForgedBatch.batch(section: section, recordCount: 4)) == .invalidRecord)
        #expect(try appendCode(ForgedBatch.batch(section: section, recordCount: 2)) == .invalidRecord)
        #expect(try appendCode(ForgedBatch.batch(section: section, recordCount: 3)) == nil)
    }

    @Test func append_whenEmptyBatchClaimsInt32MaxRecords_isRejected() throws {
        let lying = try ForgedBatch.lyingEmptyBatch()
        #expect(lying.count == 61)
        #expect(try appendCode(lying) == .invalidRecord)
        #expect(try appendCode(lying, origin: .broker) == .invalidRecord)
    }

    @Test func append_whenLastOffsetDeltaLies_isRejected() throws {
        let section = ForgedBatch.section(ForgedBatch.honestRecords(3))
        #expect(try appendCode(ForgedBatch.batch(section: section, recordCount: 3, lastOffsetDelta: 5)) == .invalidRecord)
        var flipped = try ForgedBatch.batch(section: section, recordCount: 3, lastOffsetDelta: 5)
        flipped[RecordBatchHeader.size] ^= 1  // a CRC mismatch is reported first, as Kafka does
        #expect(try appendCode(flipped) == .corruptBatch)
    }

    @Test func append_whenOffsetDeltasAreNotSequential_isRejected() throws {
        for deltas in [[0, 2, 3], [1, 2, 3], [0, 0, 1], [0, -1, 2], [0, 1, Int64(Int32.max) + 1]] as [[Int64]] {
            let records = deltas.map { ForgedBatch.record(offsetDelta: $0) }
            let bytes = try ForgedBatch.batch(section: ForgedBatch.section(records), recordCount: 3)
            #expect(try appendCode(bytes) == .invalidRecord, "deltas \(deltas)")
        }
    }

    @Test func append_whenRecordsLeaveBytesOver_isRejected() throws {
        let section = ForgedBatch.section(ForgedBatch.honestRecords(3)) + [0]
        #expect(try appendCode(ForgedBatch.batch(section: section, recordCount: 3)) == .invalidRecord)
    }

    @Test func append_whenRecordLengthIsWrong_isRejected() throws {
        let records = ForgedBatch.honestRecords(2)
        for length in [Int64(-1), 0, Int64(records[0].count - 1), Int64(records[0].count + 1), Int64(Int32.max), .min] {
            let section = ForgedBatch.section(records, lengths: [0: length])
            #expect(try appendCode(ForgedBatch.batch(section: section, recordCount: 2)) == .invalidRecord, "length \(length)")
        }
    }

    @Test func append_whenKeyOrValueLengthIsNegativeButNotMinusOne_isRejected() throws {
        for (keyLength, valueLength) in [(Int64(-2), Int64?.none), (nil, -2), (Int64(Int32.min), nil), (nil, 1000)] {
            let record = ForgedBatch.record(offsetDelta: 0, keyLength: keyLength, valueLength: valueLength)
            let bytes = try ForgedBatch.batch(section: ForgedBatch.section([record]), recordCount: 1)
            #expect(try appendCode(bytes) == .invalidRecord)
        }
        let nulls = ForgedBatch.record(offsetDelta: 0, key: nil, value: nil)
        #expect(try appendCode(ForgedBatch.batch(section: ForgedBatch.section([nulls]), recordCount: 1)) == nil)
    }

    @Test func append_whenHeaderKeyIsNullOrHeaderCountLies_isRejected() throws {
        let nullKey = ForgedBatch.record(offsetDelta: 0, headers: [(keyLength: -1, key: [], value: [1])])
        #expect(try appendCode(ForgedBatch.batch(section: ForgedBatch.section([nullKey]), recordCount: 1)) == .invalidRecord)
        let countLies = ForgedBatch.record(offsetDelta: 0, headers: [(keyLength: 1, key: [65], value: nil)], headerCount: 2)
        #expect(try appendCode(ForgedBatch.batch(section: ForgedBatch.section([countLies]), recordCount: 1)) == .invalidRecord)
        let negative = ForgedBatch.record(offsetDelta: 0, headerCount: -1)
        #expect(try appendCode(ForgedBatch.batch(section: ForgedBatch.section([negative]), recordCount: 1)) == .invalidRecord)
        let fine = ForgedBatch.record(offsetDelta: 0, headers: [(keyLength: 1, key: [65], value: nil)])
        #expect(try appendCode(ForgedBatch.batch(section: ForgedBatch.section([fine]), recordCount: 1)) == nil)
    }

    @Test(arguments: [CompressionCodec.gzip, .snappy, .lz4, .zstd])
    func append_whenCompressedRecordsLie_isRejected(codec: CompressionCodec) throws {
        let section = ForgedBatch.section(ForgedBatch.honestRecords(5))
        #expect(try appendCode(ForgedBatch.batch(section: section, recordCount: 5, codec: codec)) == nil)
        #expect(try appendCode(ForgedBatch.batch(section: section, recordCount: 6, codec: codec)) == .invalidRecord)
        #expect(try appendCode(ForgedBatch.batch(section: section, recordCount: .max, codec: codec)) == .invalidRecord)
        let skipping = ForgedBatch.section([ForgedBatch.record(offsetDelta: 0), ForgedBatch.record(offsetDelta: 7)])
        #expect(try appendCode(ForgedBatch.batch(section: skipping, recordCount: 2, codec: codec)) == .invalidRecord)
        var garbage = try ForgedBatch.batch(section: section, recordCount: 5, codec: codec)
        for index in (RecordBatchHeader.size + 2)..<min(garbage.count, RecordBatchHeader.size + 40) { garbage[index] ^= 0x5A }
        ForgedBatch.fixCRC(&garbage)
        let code = try appendCode(garbage)
        #expect(code == .corruptBatch || code == .invalidRecord || code == .recordTooLarge)
    }

    @Test(arguments: [CompressionCodec.gzip, .snappy, .lz4, .zstd])
    func append_whenDecompressionExceedsBudget_isRejectedWithoutAllocatingIt(codec: CompressionCodec) throws {
        // 2000 records of 4 KiB zeros: about 8 MB decompressed from a few KB.
        let records = (0..<2000).map { ForgedBatch.record(offsetDelta: Int64($0), value: [UInt8](repeating: 0, count: 4096)) }
        let bytes = try ForgedBatch.batch(section: ForgedBatch.section(records), recordCount: 2000, codec: codec)
        #expect(try appendCode(bytes, budget: 1 << 20) == .recordTooLarge)
        #expect(try appendCode(bytes, budget: 16 << 20) == nil)
        #expect(try appendCode(bytes) == nil)  // default: max(16 × max.message.bytes, 64 MiB)
    }

    @Test func append_budgetIsSharedByTheBatchesOfOneRequest() throws {
        let records = (0..<200).map { ForgedBatch.record(offsetDelta: Int64($0), value: [UInt8](repeating: 7, count: 4096)) }
        let one = try ForgedBatch.batch(section: ForgedBatch.section(records), recordCount: 200, codec: .zstd)
        #expect(try appendCode(one, budget: 1 << 20) == nil)
        #expect(try appendCode(one + one, budget: 1 << 20) == .recordTooLarge)
    }

    @Test func decompressionBudget_forAppend_isSixteenTimesMaxMessageBytesAtLeast64MiB() {
        #expect(DecompressionBudget.forAppend(maxMessageBytes: 1_048_588).limit == 64 << 20)
        #expect(DecompressionBudget.forAppend(maxMessageBytes: 10 << 20).limit == 160 << 20)
        #expect(DecompressionBudget.forAppend(maxMessageBytes: .max).limit == .max)
        #expect(DecompressionBudget.forAppend(maxMessageBytes: -5).limit == 64 << 20)
    }

    @Test func append_whenClientWritesControlBatch_isRejected_brokerMayWriteIt() throws {
        let marker = ForgedBatch.record(offsetDelta: 0, key: [0, 0, 0, 0], value: [0, 0, 0, 0, 0, 0])
        let bytes = try ForgedBatch.batch(
            section: ForgedBatch.section([marker]), recordCount: 1, attributes: 0x30, producerId: 7, producerEpoch: 0,
            baseSequence: -1)
        #expect(try appendCode(bytes) == .invalidRecord)
        #expect(try appendCode(bytes, origin: .broker) == nil)
    }

    @Test func append_whenClientWritesTransactionalBatch_acceptsItAndOpensATransaction() throws {
        let bytes = try ForgedBatch.batch(
            section: ForgedBatch.section(ForgedBatch.honestRecords(2)), recordCount: 2, attributes: 0x10, producerId: 7,
            producerEpoch: 0, baseSequence: 0)
        #expect(try appendCode(bytes) == nil)
        #expect(LogEngineError.transactionalBatchRefused("x").code == .invalidTransactionState)
    }

    @Test func append_whenMaxTimestampLies_storesTheRecordsMax() throws {
        let directory = TemporaryDirectory()
        let log = try openLog(directory)
        let section = ForgedBatch.section(ForgedBatch.honestRecords(3) { Int64($0) * 10 })
        let lying = try ForgedBatch.batch(
            section: section, recordCount: 3, baseTimestamp: 1_000, maxTimestamp: Int64.min)
        try log.append(ByteBuffer(bytes: lying))
        let stored = try #require(try log.read(from: 0, maxBytes: 1 << 20)).copyBytes()
        let header = try stored.withUnsafeBytes { raw in
            let header = try RecordBatchHeader(parsing: raw, at: 0)
            try header.validate(in: raw, at: 0)
            return header
        }
        #expect(header.maxTimestamp == 1_020)
    }

    @Test func append_whenBatchesSpanMoreThanASegment_isRejected() throws {
        // Only possible with lying counts, which the record check refuses first: the span check is the second line.
        let lying = try ForgedBatch.lyingEmptyBatch()
        #expect(try appendCode(lying + lying, origin: .broker) == .invalidRecord)
    }

    @Test func recompress_whenCountsDisagreeButCRCHolds_isInvalidRecordNotCorrupt() throws {
        let section = ForgedBatch.section(ForgedBatch.honestRecords(3))
        let lying = try ForgedBatch.batch(section: section, recordCount: 3, lastOffsetDelta: 7, codec: .gzip)
        let error = try #require(throws: LogEngineError.self) {
            try BatchRecompressor.recompress(ByteBuffer(bytes: lying), to: .zstd)
        }
        #expect(error.code == .invalidRecord)
    }
}
