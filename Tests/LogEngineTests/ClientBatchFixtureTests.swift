import Foundation
import NIOCore
import Testing
@testable import LogEngine

/// Record batches v2 as real clients compressed them, captured from a portaskd segment file: three records
/// (key "key-i", value "value-i " eight times, header h=i, timestamps 1700000000000 + i).
struct ClientBatchFixtureTests {
    static let librdkafkaGzip = """
        00000000000000000000008300000000026e6c78e60001000000020000018bcfe568000000018bcfe56802ffffffffffffffffffffff\
        ffffff000000031f8b08000000000000035bc0c8c0c0c0959d5aa96bd0c0589698539aaa6ba0402ecdc494c164b080918189096ca221\
        cc444305726990898640135958c0261ac14c345220970699680400a1239e2af6000000
        """
    /// librdkafka writes raw snappy (no xerial framing).
    static let librdkafkaSnappy = """
        00000000000000000000008100000000024455aba20002000000020000018bcfe568000000018bcfe56802ffffffffffffffffffffff\
        ffffff00000003f60150a0010000000a6b65792d30800176616c75652d3020de0800240202680230a00100020205520031115200310d\
        52c6080001521431a00100040405520432800da400320d52c60800100202680232
        """
    static let librdkafkaZstd = """
        00000000000000000000008100000000022d16b1f50004000000020000018bcfe568000000018bcfe56802ffffffffffffffffffffff\
        ffffff0000000328b52ffd00583d0200e402a0010000000a6b65792d30800176616c75652d30200202680230a001000202313131a001\
        000404323202026802320a008308201f20060e80b5836820332051850bedcec204
        """
    static let kafkaPythonLZ4 = """
        00000000000000000000009900000000020e7440320003000000020000018bcfe568000000018bcfe56802ffffffffffffffffffffff\
        ffffff0000000304224d186840f6000000000000003851000000ff06a0010000000a6b65792d30800176616c75652d3020080025a102\
        02680230a001000202520014315200133152000f08001f0052006131a001000404520014325200133252000f08001f50020268023200\
        000000
        """
    /// kafka-python writes snappy with xerial framing, as the Java client does.
    static let kafkaPythonSnappy = """
        000000000000000000000095000000000213fa1db50002000000020000018bcfe568000000018bcfe56802ffffffffffffffffffffff\
        ffffff0000000382534e4150505900000000010000000100000050f60150a0010000000a6b65792d30800176616c75652d3020de0800\
        240202680230a00100020205520031115200310d52c6080001521431a00100040405520432800da400320d52c60800100202680232
        """

    static func bytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            out.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        return out
    }

    static let expected = (0..<3).map { i in
        DecodedRecord(
            offset: Int64(i), timestamp: 1_700_000_000_000 + Int64(i), key: Array("key-\(i)".utf8),
            value: Array(String(repeating: "value-\(i) ", count: 8).utf8),
            headers: [.init(key: Array("h".utf8), value: Array("\(i)".utf8))])
    }

    @Test(arguments: [
        (librdkafkaGzip, CompressionCodec.gzip), (librdkafkaSnappy, .snappy), (librdkafkaZstd, .zstd),
        (kafkaPythonLZ4, .lz4), (kafkaPythonSnappy, .snappy),
    ])
    func decodeRecords_readsClientCompressedBatches(hex: String, codec: CompressionCodec) throws {
        let batch = Self.bytes(hex)
        try batch.withUnsafeBytes { raw in
            let header = try RecordBatchHeader(parsing: raw, at: 0)
            try header.validate(in: raw, at: 0)
            #expect(header.compressionCodec == codec.rawValue)
            #expect(try header.decodeRecords(in: raw, at: 0) == Self.expected)
        }
    }

    @Test func downConvert_turnsClientBatchesIntoMessageFormatV1() throws {
        let batches = [Self.librdkafkaGzip, Self.kafkaPythonLZ4].map(Self.bytes).joined()
        let converted = try Array(batches).withUnsafeBytes {
            try MessageFormatConverter.downConvert($0, toMagic: 1, fromOffset: 0, maxBytes: 1 << 20)
        }
        let decoded = try converted.bytes.withUnsafeBytes { try LegacyMessageSet.decode($0) }
        // Both batches start at offset 0 in their captures; the records keep their stored offsets.
        let withoutHeaders = Self.expected.map { DecodedRecord(offset: $0.offset, timestamp: $0.timestamp, key: $0.key, value: $0.value) }
        #expect(decoded.records == withoutHeaders + withoutHeaders)
    }

    @Test func append_acceptsEveryClientsBatches_asTheyWereSent() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(directory: directory.path, config: smallConfig(segmentBytes: 1 << 20))
        let all = [Self.librdkafkaGzip, Self.librdkafkaSnappy, Self.librdkafkaZstd, Self.kafkaPythonLZ4, Self.kafkaPythonSnappy]
        for hex in all {
            let batch = Self.bytes(hex)
            let info = try log.append(ByteBuffer(bytes: batch))
            #expect(info.recordCount == 3)
            // Honest batches are stored byte for byte (but the base offset).
            let stored = try #require(try log.read(from: info.firstOffset, maxBytes: 1 << 20)).copyBytes()
            #expect(Array(stored.dropFirst(8)) == Array(batch.dropFirst(8)))
        }
    }
}
