import Testing
@testable import LogEngine

struct MessageFormatConverterTests {
    static let records: [DecodedRecord] = [
        DecodedRecord(offset: 0, timestamp: 1_700_000_000_000, key: Array("k0".utf8), value: Array("v0".utf8)),
        DecodedRecord(offset: 1, timestamp: 1_700_000_000_005, key: nil, value: Array("v1".utf8)),
        DecodedRecord(offset: 2, timestamp: 1_700_000_000_003, key: Array("k2".utf8), value: nil),
    ]

    private func batchRecords(_ batch: [UInt8]) throws -> (RecordBatchHeader, [DecodedRecord]) {
        try batch.withUnsafeBytes { bytes in
            let header = try RecordBatchHeader(parsing: bytes, at: 0)
            try header.validate(in: bytes, at: 0)
            return (header, try header.decodeRecords(in: bytes, at: 0))
        }
    }

    @Test func legacyMessageSet_encodesKafkasV1Layout() throws {
        let bytes = LegacyMessageSet.encode([Self.records[0]], magic: 1)
        // offset, size, crc, magic, attributes, timestamp, key, value
        #expect(bytes.count == 8 + 4 + 4 + 1 + 1 + 8 + 4 + 2 + 4 + 2)
        #expect(Array(bytes[8..<12]) == [0, 0, 0, 26])
        #expect(bytes[16] == 1)
        let crc = bytes[16...].withUnsafeBytes { LegacyMessageSet.crc32IEEE($0) }
        #expect(Array(bytes[12..<16]) == [UInt8(crc >> 24), UInt8((crc >> 16) & 0xFF), UInt8((crc >> 8) & 0xFF), UInt8(crc & 0xFF)])
        #expect(LegacyMessageSet.messageSize(magic: 1, key: Self.records[0].key, value: Self.records[0].value) == bytes.count)
    }

    @Test(arguments: [Int8(0), 1])
    func legacyMessageSet_decodesWhatItEncodes(magic: Int8) throws {
        let decoded = try LegacyMessageSet.encode(Self.records, magic: magic).withUnsafeBytes {
            try LegacyMessageSet.decode($0)
        }
        #expect(decoded.magic == magic)
        #expect(decoded.compression == .none)
        let expected = Self.records.map { record in
            var copy = record
            if magic == 0 { copy.timestamp = DecodedRecord.noTimestamp }
            return copy
        }
        #expect(decoded.records == expected)
    }

    @Test(arguments: [Int8(0), 1], CompressionCodec.allCases.filter { $0 != .none && $0 != .zstd })
    func legacyMessageSet_unwrapsCompressedWrappers(magic: Int8, codec: CompressionCodec) throws {
        let bytes = try LegacyMessageSet.encodeCompressed(Self.records, magic: magic, compression: codec)
        let decoded = try bytes.withUnsafeBytes { try LegacyMessageSet.decode($0) }
        #expect(decoded.compression == codec)
        #expect(decoded.records.map(\.value) == Self.records.map(\.value))
        #expect(decoded.records.map(\.key) == Self.records.map(\.key))
        if magic == 1 { #expect(decoded.records.map(\.timestamp) == Self.records.map(\.timestamp)) }
    }

    @Test func legacyMessageSet_rejectsBadCrcAndTruncation() throws {
        var bytes = LegacyMessageSet.encode(Self.records, magic: 1)
        #expect(throws: LogEngineError.self) {
            try Array(bytes.dropLast(3)).withUnsafeBytes { _ = try LegacyMessageSet.decode($0) }
        }
        bytes[30] ^= 0xFF
        #expect(throws: LogEngineError.self) { try bytes.withUnsafeBytes { _ = try LegacyMessageSet.decode($0) } }
        #expect(throws: LogEngineError.self) { try [UInt8]().withUnsafeBytes { _ = try LegacyMessageSet.decode($0) } }
    }

    @Test(arguments: CompressionCodec.allCases)
    func upConvert_buildsOneValidBatchWithTheProducersCodec(codec: CompressionCodec) throws {
        let legacy = codec == .none || codec == .zstd
            ? LegacyMessageSet.encode(Self.records, magic: 1)
            : try LegacyMessageSet.encodeCompressed(Self.records, magic: 1, compression: codec)
        let batch = try legacy.withUnsafeBytes { try MessageFormatConverter.upConvert($0) }
        let (header, records) = try batchRecords(batch)
        #expect(header.compressionCodec == (codec == .zstd ? 0 : codec.rawValue))
        #expect(header.recordCount == 3)
        #expect(header.baseTimestamp == 1_700_000_000_000)
        #expect(header.maxTimestamp == 1_700_000_000_005)
        #expect(header.producerId == -1)
        #expect(records == Self.records)
    }

    @Test func upConvert_keepsMissingTimestampsOfMagicZero() throws {
        let legacy = LegacyMessageSet.encode(Self.records, magic: 0)
        let batch = try legacy.withUnsafeBytes { try MessageFormatConverter.upConvert($0) }
        let (header, records) = try batchRecords(batch)
        #expect(header.maxTimestamp == -1)
        #expect(records.allSatisfy { $0.timestamp == -1 })
    }

    @Test(arguments: CompressionCodec.allCases)
    func downConvert_decompressesAndDropsHeaders(codec: CompressionCodec) throws {
        var withHeaders = Self.records
        withHeaders[0].headers = [.init(key: Array("h".utf8), value: [1, 2])]
        var batch = try RecordBatchEncoder.encode(withHeaders, compression: codec, baseOffset: 10)
        batch += try RecordBatchEncoder.encode([Self.records[1]], compression: codec, baseOffset: 13)
        for magic: Int8 in [0, 1] {
            let converted = try batch.withUnsafeBytes {
                try MessageFormatConverter.downConvert($0, toMagic: magic, fromOffset: 11, maxBytes: 1 << 20)
            }
            let decoded = try converted.bytes.withUnsafeBytes { try LegacyMessageSet.decode($0) }
            #expect(decoded.magic == magic)
            #expect(decoded.records.map(\.offset) == [11, 12, 13])
            #expect(decoded.records.map(\.value) == [Self.records[1].value, nil, Self.records[1].value])
            let timestamps: [Int64] = magic == 0 ? [-1, -1, -1] : [1_700_000_000_005, 1_700_000_000_003, 1_700_000_000_005]
            #expect(decoded.records.map(\.timestamp) == timestamps)
            #expect(converted.nextOffset == 14)
        }
    }

    @Test func downConvert_stopsAtTheByteLimitButKeepsTheFirstMessage() throws {
        let batch = try RecordBatchEncoder.encode(Self.records, compression: .none)
        let one = try batch.withUnsafeBytes {
            try MessageFormatConverter.downConvert($0, toMagic: 1, fromOffset: 0, maxBytes: 1)
        }
        #expect(try one.bytes.withUnsafeBytes { try LegacyMessageSet.decode($0) }.records.count == 1)
        #expect(one.nextOffset == 1)
    }

    @Test func downConvert_marksLogAppendTimeAndSkipsControlBatches() throws {
        var batch = try RecordBatchEncoder.encode(Self.records, compression: .gzip, logAppendTime: true)
        var control = try RecordBatchEncoder.encode([Self.records[0]], compression: .none, baseOffset: 3)
        control.withUnsafeMutableBytes { bytes in
            bytes.storeInt16BE(0x20, at: RecordBatchHeader.attributesOffset)
        }
        batch += control
        let converted = try batch.withUnsafeBytes {
            try MessageFormatConverter.downConvert($0, toMagic: 1, fromOffset: 0, maxBytes: 1 << 20)
        }
        #expect(converted.nextOffset == 4)
        let decoded = try converted.bytes.withUnsafeBytes { try LegacyMessageSet.decode($0) }
        #expect(decoded.records.count == 3)
        #expect(decoded.records.allSatisfy { $0.timestamp == 1_700_000_000_005 })
        #expect(converted.bytes[17] == 0x08)  // attributes of the first message: LogAppendTime
    }
}
