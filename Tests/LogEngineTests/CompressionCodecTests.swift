import Testing
@testable import LogEngine

struct CompressionCodecTests {
    /// "hello kafka hello kafka " three times, as kafka-python 3.0 and python-snappy compress it.
    static let plain = Array("hello kafka hello kafka hello kafka hello kafka hello kafka hello kafka ".utf8)
    static let kafkaPythonGzip: [UInt8] = [
        0x1f, 0x8b, 0x08, 0x00, 0xaa, 0x67, 0x02, 0x6b, 0x02, 0xff, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0x57, 0xc8, 0x4e,
        0x4c, 0xcb, 0x4e, 0x54, 0xc8, 0xa0, 0x80, 0x0d, 0x00, 0x91, 0x4f, 0x69, 0xd7, 0x48, 0x00, 0x00, 0x00,
    ]
    static let kafkaPythonXerialSnappy: [UInt8] = [
        0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
        0x00, 0x11, 0x20, 0x2c, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x20, 0x6b, 0x61, 0x66, 0x6b, 0x61, 0x20, 0x4e, 0x0c,
        0x00, 0x00, 0x00, 0x00, 0x11, 0x20, 0x2c, 0x66, 0x6b, 0x61, 0x20, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x20, 0x6b,
        0x61, 0x4e, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x08, 0x1c, 0x6f, 0x20, 0x6b, 0x61, 0x66, 0x6b, 0x61, 0x20,
    ]
    static let rawSnappy: [UInt8] = [
        0x48, 0x2c, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x20, 0x6b, 0x61, 0x66, 0x6b, 0x61, 0x20, 0xee, 0x0c, 0x00,
    ]
    static let kafkaPythonLZ4: [UInt8] = [
        0x04, 0x22, 0x4d, 0x18, 0x68, 0x40, 0x48, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x4f, 0x16, 0x00, 0x00,
        0x00, 0xcf, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x20, 0x6b, 0x61, 0x66, 0x6b, 0x61, 0x20, 0x0c, 0x00, 0x24, 0x50,
        0x61, 0x66, 0x6b, 0x61, 0x20, 0x00, 0x00, 0x00, 0x00,
    ]
    static let kafkaPythonZstd: [UInt8] = [
        0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x48, 0x95, 0x00, 0x00, 0x60, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x20, 0x6b, 0x61,
        0x66, 0x6b, 0x61, 0x20, 0x01, 0x00, 0xb9, 0x54, 0x92,
    ]

    @Test func decompress_readsWhatKafkaPythonWrites() throws {
        #expect(try CompressionCodec.gzip.decompress(Self.kafkaPythonGzip) == Self.plain)
        #expect(try CompressionCodec.snappy.decompress(Self.kafkaPythonXerialSnappy) == Self.plain)
        #expect(try CompressionCodec.snappy.decompress(Self.rawSnappy) == Self.plain)
        #expect(try CompressionCodec.lz4.decompress(Self.kafkaPythonLZ4) == Self.plain)
        #expect(try CompressionCodec.zstd.decompress(Self.kafkaPythonZstd) == Self.plain)
    }

    @Test(arguments: CompressionCodec.allCases)
    func compress_roundTripsSmallLargeAndEmptyInputs(codec: CompressionCodec) throws {
        var generator = SystemRandomNumberGenerator()
        let random = (0..<200_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let repetitive = Array(repeating: Self.plain, count: 5_000).flatMap { $0 }
        for input in [Self.plain, random, repetitive, [UInt8(7)]] {
            #expect(try codec.decompress(codec.compress(input)) == input)
        }
        if codec != .none {
            #expect(try codec.compress(repetitive).count < repetitive.count / 10)
        }
    }

    @Test func snappy_compressWritesXerialFramingJavaClientsRead() throws {
        let compressed = try CompressionCodec.snappy.compress(Self.plain)
        #expect(Array(compressed.prefix(8)) == CompressionCodec.xerialMagic)
    }

    @Test func lz4_legacyHeaderChecksumOfMessageFormatV0IsRepaired() throws {
        var frame = try CompressionCodec.lz4.compress(Self.plain)
        // Message format v0 clients computed the header checksum over the magic number too.
        let descriptorEnd = 6
        let broken = frame[0..<descriptorEnd].withUnsafeBytes { XXHash32.hash($0, seed: 0) }
        frame[descriptorEnd] = UInt8((broken >> 8) & 0xFF)
        #expect(throws: LogEngineError.self) { try CompressionCodec.lz4.decompress(frame) }
        let repaired = try frame.withUnsafeBytes {
            try CompressionCodec.lz4.decompress($0, legacyLZ4HeaderChecksum: true)
        }
        #expect(repaired == Self.plain)
    }

    @Test func xxhash32_matchesReferenceValues() {
        #expect([UInt8]().withUnsafeBytes { XXHash32.hash($0, seed: 0) } == 0x02CC5D05)
        #expect(Array("a".utf8).withUnsafeBytes { XXHash32.hash($0, seed: 0) } == 0x550D7456)
        let long = Array("Nobody inspects the spammish repetition".utf8)
        #expect(long.withUnsafeBytes { XXHash32.hash($0, seed: 0) } == 0xE2293B2F)
    }

    @Test(arguments: [CompressionCodec.gzip, .snappy, .lz4, .zstd])
    func decompress_rejectsGarbageAndTruncation(codec: CompressionCodec) throws {
        let compressed = try codec.compress(Self.plain)
        #expect(throws: LogEngineError.self) { try codec.decompress(Array(compressed.prefix(compressed.count / 2))) }
        #expect(throws: LogEngineError.self) { try codec.decompress([0xde, 0xad, 0xbe, 0xef, 0x01, 0x02]) }
    }

    @Test(arguments: [CompressionCodec.gzip, .snappy, .lz4, .zstd])
    func decompress_enforcesTheSizeLimit(codec: CompressionCodec) throws {
        let big = [UInt8](repeating: 0x61, count: 1 << 20)
        let compressed = try codec.compress(big)
        #expect(throws: LogEngineError.self) { try codec.decompress(compressed, maxBytes: 1000) }
        #expect(try codec.decompress(compressed, maxBytes: 1 << 20) == big)
    }

    @Test func init_rejectsUnknownCodecNumbers() throws {
        #expect(throws: LogEngineError.self) { try CompressionCodec(attributes: 5) }
        #expect(try CompressionCodec(attributes: 0x0B) == .lz4)
    }
}
