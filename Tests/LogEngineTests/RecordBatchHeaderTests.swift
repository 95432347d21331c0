import Testing
@testable import LogEngine

struct RecordBatchHeaderTests {
    private func parse(_ bytes: [UInt8]) throws -> RecordBatchHeader {
        try bytes.withUnsafeBytes { try RecordBatchHeader(parsing: $0, at: 0) }
    }

    private func validate(_ bytes: [UInt8], max: Int = Int(Int32.max)) throws {
        try bytes.withUnsafeBytes { raw in
            try RecordBatchHeader(parsing: raw, at: 0).validate(in: raw, at: 0, maxBatchBytes: max)
        }
    }

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

    @Test func parse_readsAllFields() throws {
        var builder = RecordBatchEncoder(baseOffset: 42, baseTimestamp: 1000)
        builder.producerId = 7
        builder.producerEpoch = 3
        builder.baseSequence = 11
        builder.partitionLeaderEpoch = 5
        let bytes = builder.build(count: 4) { _ in [1, 2, 3] }
        let header = try parse(bytes)
        #expect(header.baseOffset == 42)
        #expect(header.totalSize == bytes.count)
        #expect(header.partitionLeaderEpoch == 5)
        #expect(header.magic == 2)
        #expect(header.lastOffsetDelta == 3)
        #expect(header.recordCount == 4)
        #expect(header.baseTimestamp == 1000)
        #expect(header.maxTimestamp == 1003)
        #expect(header.producerId == 7)
        #expect(header.producerEpoch == 3)
        #expect(header.baseSequence == 11)
        #expect(header.lastOffset == 45)
        #expect(header.nextOffset == 46)
        #expect(header.compressionCodec == 0)
        #expect(!header.isLogAppendTime)
        try validate(bytes)
    }

    @Test func parse_whenFewerThanHeaderBytes_throwsCorruptBatch() {
        let bytes = Array(Batches.bytes().prefix(60))
        #expect(code { _ = try parse(bytes) } == .corruptBatch)
    }

    @Test func validate_whenByteFlipped_throwsCorruptBatch() {
        var bytes = Batches.bytes()
        bytes[bytes.count - 3] ^= 0x40
        #expect(code { try validate(bytes) } == .corruptBatch)
    }

    @Test func validate_whenMagicIsNotTwo_throwsCorruptBatch() {
        var bytes = Batches.bytes()
        bytes[16] = 1
        #expect(code { try validate(bytes) } == .corruptBatch)
    }

    @Test func validate_whenBatchLengthPastEnd_throwsCorruptBatch() {
        let bytes = Array(Batches.bytes().dropLast())
        #expect(code { try validate(bytes) } == .corruptBatch)
    }

    @Test func validate_whenBatchLengthBelowHeader_throwsCorruptBatch() {
        var bytes = Batches.bytes()
        bytes.withUnsafeMutableBytes { $0.storeInt32BE(10, at: 8) }
        #expect(code { try validate(bytes) } == .corruptBatch)
    }

    @Test func validate_whenRecordCountDisagreesWithLastOffsetDelta_throwsCorruptBatch() {
        var bytes = Batches.bytes(count: 3)
        bytes.withUnsafeMutableBytes { raw in
            raw.storeInt32BE(5, at: 23)
            raw.storeUInt32BE(RecordBatchHeader.computeCRC(in: UnsafeRawBufferPointer(raw), at: 0, totalSize: raw.count), at: 17)
        }
        #expect(code { try validate(bytes) } == .corruptBatch)
    }

    @Test func validate_whenRecordCountIsZero_throwsCorruptBatch() {
        var bytes = Batches.bytes(count: 1)
        bytes.withUnsafeMutableBytes { raw in
            raw.storeInt32BE(0, at: 57)
            raw.storeInt32BE(-1, at: 23)
            raw.storeUInt32BE(RecordBatchHeader.computeCRC(in: UnsafeRawBufferPointer(raw), at: 0, totalSize: raw.count), at: 17)
        }
        #expect(code { try validate(bytes) } == .corruptBatch)
    }

    @Test func validate_whenLargerThanMaxMessageBytes_throwsRecordTooLarge() {
        let bytes = Batches.bytes(count: 2, valueSize: 500)
        #expect(code { try validate(bytes, max: 500) } == .recordTooLarge)
        #expect(code { try validate(bytes, max: bytes.count) } == nil)
    }

    @Test func rewriteBaseOffset_keepsCRCValid() throws {
        var bytes = Batches.bytes()
        bytes.withUnsafeMutableBytes { RecordBatchHeader.rewriteBaseOffset(1_234_567, in: $0, at: 0) }
        #expect(try parse(bytes).baseOffset == 1_234_567)
        try validate(bytes)
    }

    @Test func setLogAppendTime_setsTypeAndMaxTimestampAndRecomputesCRC() throws {
        var bytes = Batches.bytes(timestamp: 1000)
        let before = try parse(bytes)
        bytes.withUnsafeMutableBytes { RecordBatchHeader.setLogAppendTime(99_999, in: $0, at: 0, totalSize: $0.count) }
        let header = try parse(bytes)
        #expect(header.isLogAppendTime)
        #expect(header.maxTimestamp == 99_999)
        #expect(header.baseTimestamp == before.baseTimestamp)
        #expect(header.crc != before.crc)
        try validate(bytes)
    }

    @Test func firstOffsetWithTimestamp_findsRecordInsideBatch() throws {
        let bytes = RecordBatchEncoder(baseOffset: 10, baseTimestamp: 100).build(count: 5) { _ in [0] }
        try bytes.withUnsafeBytes { raw in
            let header = try RecordBatchHeader(parsing: raw, at: 0)
            #expect(header.firstOffset(withTimestampAtLeast: 50, in: raw, at: 0) == 10)
            #expect(header.firstOffset(withTimestampAtLeast: 103, in: raw, at: 0) == 13)
            #expect(header.firstOffset(withTimestampAtLeast: 105, in: raw, at: 0) == nil)
        }
    }
}

extension RecordBatchHeaderTests {
    @Test func firstOffsetWithTimestamp_whenRecordsAreGarbage_fallsBackToBaseOffset() throws {
        var bytes = RecordBatchEncoder(baseOffset: 10, baseTimestamp: 100).build(count: 3) { _ in [0] }
        // Record length -1000 (zigzag 1999), then huge deltas: the CRC is recomputed so only the records are bad.
        bytes.replaceSubrange(61..<64, with: [0xCF, 0x0F, 0x00])
        bytes.withUnsafeMutableBytes { raw in
            raw.storeUInt32BE(RecordBatchHeader.computeCRC(in: UnsafeRawBufferPointer(raw), at: 0, totalSize: raw.count), at: 17)
        }
        try bytes.withUnsafeBytes { raw in
            let header = try RecordBatchHeader(parsing: raw, at: 0)
            #expect(header.firstOffset(withTimestampAtLeast: 101, in: raw, at: 0) == 10)
        }
        let varint: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]
        var cursor = 0
        #expect(varint.withUnsafeBytes { RecordBatchHeader.readVarint($0, &cursor, end: varint.count) } == nil)
    }
}
