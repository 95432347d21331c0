import Foundation
import LogEngine
import Testing
@testable import PortaskVerifyKit

struct DumperTests {
    static let records: [FixtureRecord] = [
        FixtureRecord(key: Array("k-0".utf8), value: Array("hello".utf8), headers: [("h1", Array("v1".utf8)), ("h2", nil)]),
        FixtureRecord(key: nil, value: [0xFF, 0x00, 0x01], headers: [], timestampDelta: 1),
        FixtureRecord(key: Array("k-2".utf8), value: nil, headers: [("trace", Array("abc".utf8))], timestampDelta: 2),
    ]

    /// A segment with one batch of `records` per codec.
    static func segment(in directory: TemporaryDirectory) throws -> String {
        var writer = KafkaSegmentWriter(directory: directory.path, baseOffset: 0)
        for (index, codec) in CompressionCodec.allCases.enumerated() {
            try writer.append(KafkaBatch.build(baseOffset: Int64(index * 3), records: records, codec: codec,
                                               producerId: 7, producerEpoch: 0, baseSequence: Int32(index * 3)))
        }
        try writer.write()
        return writer.path(".log")
    }

    @Test func jsonDump_decodesEveryCodec_withKeysValuesAndHeaders() throws {
        let directory = TemporaryDirectory()
        let log = try Self.segment(in: directory)
        var output = ""
        try Dumper(detail: .data, json: true).dump([log], to: &output)
        let lines = output.split(separator: "\n")
        #expect(lines.count == 5)
        for (index, line) in lines.enumerated() {
            let batch = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(batch["compression"] as? String == CompressionCodec.allCases[index].description)
            #expect(batch["isValid"] as? Bool == true)
            #expect(batch["baseOffset"] as? Int == index * 3)
            let records = try #require(batch["records"] as? [[String: Any]])
            #expect(records.count == 3)
            #expect(records[0]["key"] as? String == "k-0" && records[0]["value"] as? String == "hello")
            #expect(records[0]["sequence"] as? Int == index * 3)
            let headers = try #require(records[0]["headers"] as? [[String: Any]])
            #expect(headers.count == 2 && headers[0]["key"] as? String == "h1" && headers[0]["value"] as? String == "v1")
            #expect(headers[1]["value"] is NSNull)
            #expect(records[1]["key"] is NSNull && records[1]["valueHex"] as? String == "ff0001")
            #expect(records[1]["timestamp"] as? Int == 1_700_000_000_001)
            #expect(records[2]["value"] is NSNull && records[2]["offset"] as? Int == index * 3 + 2)
        }
    }

    @Test func textDump_looksLikeKafkasDumpLogSegments() throws {
        let directory = TemporaryDirectory()
        let log = try Self.segment(in: directory)
        var output = ""
        try Dumper(detail: .data).dump([log], to: &output)
        let lines = output.split(separator: "\n").map(String.init)
        #expect(lines[0] == "Dumping \(log)")
        #expect(lines[1] == "Log starting offset: 0")
        #expect(lines[2].hasPrefix("baseOffset: 0 lastOffset: 2 count: 3 baseSequence: 0 lastSequence: 2 producerId: 7 "))
        #expect(lines[2].contains("position: 0 CreateTime: 1700000000002 ") && lines[2].hasSuffix("isvalid: true"))
        #expect(lines[3] == "| offset: 0 CreateTime: 1700000000000 keySize: 3 valueSize: 5 sequence: 0 "
                + "headerKeys: [h1,h2] key: k-0 payload: hello headers: [h1=v1, h2=null]")
        #expect(lines[4].hasSuffix("key: null payload: 0xff0001"))
        #expect(lines.filter { $0.contains("compresscodec: zstd") }.count == 1)
        #expect(lines.count == 2 + 5 * 4)
    }

    @Test func dump_ofIndexes_andOfATornTail() throws {
        let directory = TemporaryDirectory()
        let (partition, _) = try makeKafkaPartition(in: directory.path)
        var output = ""
        try Dumper().dump([partition + "/" + LogSegment.fileName(0, suffix: ".index")], to: &output)
        #expect(output.contains("offset: ") && output.contains(" position: "))
        output = ""
        try Dumper().dump([partition + "/" + LogSegment.fileName(0, suffix: ".timeindex")], to: &output)
        #expect(output.contains("timestamp: 17000000000"))
        let log = partition + "/" + LogSegment.fileName(0, suffix: ".log")
        try Damager.modify(log) { $0.removeLast(5) }
        output = ""
        try Dumper().dump([log], to: &output)
        #expect(output.split(separator: "\n").filter { $0.hasPrefix("baseOffset:") }.count == 7)
        #expect(output.contains("invalid bytes at the end of \(log)"))
        output = ""
        try Dumper(detail: .records).dump([partition], to: &output)
        #expect(output.split(separator: "\n").filter { $0.hasPrefix("| offset:") }.count == 7 * 3 + 16 * 3)
        #expect(!output.contains("payload:"))
    }

    /// A batch librdkafka compressed with raw snappy, captured from a portaskd segment (as in LogEngineTests):
    /// three records, key "key-i", value "value-i " eight times, header h=i.
    @Test func dump_ofARealClientBatch() throws {
        let hex = "00000000000000000000008100000000024455aba20002000000020000018bcfe568000000018bcfe56802ffffffffffffffffffffff"
            + "ffffff00000003f60150a0010000000a6b65792d30800176616c75652d3020de0800240202680230a00100020205520031115200310d"
            + "52c6080001521431a00100040405520432800da400320d52c60800100202680232"
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        let directory = TemporaryDirectory()
        let log = directory.file(LogSegment.fileName(0, suffix: ".log"))
        try Damager.write(bytes, log)
        #expect(try Verifier(deep: true).verify([log]).isClean)
        var output = ""
        try Dumper(detail: .data).dump([log], to: &output)
        for record in 0..<3 {
            let value = String(repeating: "value-\(record) ", count: 8)
            #expect(output.contains("key: key-\(record) payload: \(value) headers: [h=\(record)]"))
        }
        #expect(output.contains("compresscodec: snappy"))
    }

    @Test func dump_ofATransactionMarker() throws {
        let directory = TemporaryDirectory()
        let log = directory.file(LogSegment.fileName(0, suffix: ".log"))
        let marker = try KafkaBatch.build(
            baseOffset: 0, records: [FixtureRecord(key: [0, 0, 0, 1], value: [0, 0, 0, 0, 0, 5])],
            producerId: 3, producerEpoch: 1, attributes: 0x30)
        try Damager.write(marker, log)
        var output = ""
        try Dumper(detail: .data).dump([log], to: &output)
        #expect(output.contains("isTransactional: true isControl: true"))
        #expect(output.contains("endTxnMarker: COMMIT coordinatorEpoch: 5"))
    }
}
