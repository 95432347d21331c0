import Foundation
import NIOCore
import Testing
@testable import LogEngine

/// Bounded, deterministic mutation fuzzing of the append validation, of recovery and of format conversion.
///
/// Valid batches (every codec, keys, values, headers) are mutated: bit flips, length and count fields overwritten
/// with extreme values (0, -1, Int32.max, Int32.min), varints in the records section replaced, truncations and
/// splices of two batches; the CRC is recomputed for half of them so the record checks are reached. Each mutant
/// is appended (no crash; an accepted one must read back whole and decode to the count it claims), every 32nd is
/// written after a valid batch into a segment file that a log then recovers (no crash; the valid batch stays),
/// and every 8th is down-converted and recompressed within a budget. Seed 0x5EED: 12 000 mutants (about 2 500
/// accepted), 375 recoveries, about 2 s in a debug build (the counts are printed; capped at 8 s). Legacy message
/// sets (v0/v1, gzip wrappers) are mutated the same way and up-converted.
struct BatchMutationFuzzTests {
    /// SplitMix64: deterministic across platforms.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let extremes: [Int32] = [0, -1, .max, .min, 1, 2]
    /// Offsets of the 4-byte header fields worth lying about: batchLength, partitionLeaderEpoch,
    /// lastOffsetDelta, baseSequence, recordCount.
    static let fields32 = [8, 12, 23, 53, 57]

    static func seeds() throws -> [[UInt8]] {
        var seeds: [[UInt8]] = []
        for codec in CompressionCodec.allCases {
            for count in [1, 3, 17] {
                var records: [DecodedRecord] = []
                for index in 0..<count {
                    let key: [UInt8]? = index % 3 == 0 ? nil : Array("key-\(index)".utf8)
                    let value: [UInt8]? = index % 5 == 4 ? nil : Array("value-\(codec)-\(index)".utf8)
                    let headerValue: [UInt8]? = index % 4 == 1 ? nil : [7]
                    let headers: [DecodedRecord.Header] =
                        index % 2 == 0 ? [] : [DecodedRecord.Header(key: Array("h\(index)".utf8), value: headerValue)]
                    records.append(DecodedRecord(
                        offset: Int64(index), timestamp: 1_700_000_000_000 + Int64(index), key: key, value: value,
                        headers: headers))
                }
                seeds.append(try RecordBatchEncoder.encode(records, compression: codec))
            }
        }
        seeds.append(Batches.bytes(count: 5, seed: 3, valueSize: 40))
        return seeds
    }

    static func mutate(_ seed: [UInt8], other: [UInt8], using random: inout Generator) -> [UInt8] {
        var bytes = seed
        let rounds = Int.random(in: 1...3, using: &random)
        for _ in 0..<rounds {
            guard !bytes.isEmpty else { break }
            switch Int.random(in: 0..<7, using: &random) {
            case 0:  // bit flip anywhere
                let at = Int.random(in: 0..<bytes.count, using: &random)
                bytes[at] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &random)
            case 1:  // a header field set to an extreme value
                let field = fields32.randomElement(using: &random)!
                if field + 4 <= bytes.count {
                    bytes.withUnsafeMutableBytes { $0.storeInt32BE(extremes.randomElement(using: &random)!, at: field) }
                }
            case 2:  // a timestamp set to an extreme value
                let field = [27, 35].randomElement(using: &random)!
                if field + 8 <= bytes.count {
                    let value = [Int64.min, .max, -1, 0].randomElement(using: &random)!
                    bytes.withUnsafeMutableBytes { $0.storeInt64BE(value, at: field) }
                }
            case 3:  // a varint in the records section replaced by an extreme one
                if bytes.count > RecordBatchHeader.size {
                    let at = Int.random(in: RecordBatchHeader.size..<bytes.count, using: &random)
                    var varint: [UInt8] = []
                    let value = [Int64(Int32.max), Int64(Int32.min), -1, -2, 0, Int64.max, Int64.min].randomElement(using: &random)!
                    RecordBatchEncoder.appendVarint(value, to: &varint)
                    bytes.replaceSubrange(at..<min(at + 1, bytes.count), with: varint)
                }
            case 4:  // truncation
                bytes.removeLast(Int.random(in: 1...min(bytes.count, 40), using: &random))
            case 5:  // splice: a prefix of this batch, the rest of another
                let cut = Int.random(in: 0...min(bytes.count, other.count), using: &random)
                bytes = Array(bytes[..<cut]) + other[cut...]
            default:  // batch length made to agree with the (changed) size
                if bytes.count >= RecordBatchHeader.size {
                    let length = Int32(bytes.count - RecordBatchHeader.logOverhead)
                    bytes.withUnsafeMutableBytes { $0.storeInt32BE(length, at: 8) }
                }
            }
        }
        if Bool.random(using: &random) { ForgedBatch.fixCRC(&bytes) }
        return bytes
    }

    /// Every stored batch from `firstOffset` on must validate and decode to its claimed count; returns the records.
    static func readBack(_ log: PartitionLog, from firstOffset: Int64) throws -> Int {
        var records = 0
        var offset = firstOffset
        while let slice = try log.read(from: offset, maxBytes: 1 << 20) {
            let bytes = try slice.copyBytes()
            try bytes.withUnsafeBytes { raw in
                var position = 0
                while position < raw.count {
                    let header = try RecordBatchHeader(parsing: raw, at: position)
                    try header.validate(in: raw, at: position)
                    let decoded = try header.decodeRecords(in: raw, at: position)
                    #expect(decoded.count == Int(header.recordCount))
                    #expect(decoded.map(\.offset) == Array(header.baseOffset...header.lastOffset))
                    records += decoded.count
                    position += header.totalSize
                }
            }
            offset = slice.nextOffset
        }
        return records
    }

    @Test func mutatedBatches_neverCrash_andAcceptedOnesRoundTrip() throws {
        let seeds = try Self.seeds()
        var random = Generator(state: 0x5EED)
        let directory = TemporaryDirectory()
        let config = smallConfig(segmentBytes: 1 << 20, segmentIndexBytes: 1 << 16)
        let log = try PartitionLog(directory: directory.path, config: config)
        let started = Date()
        var executions = 0
        var accepted = 0
        var recoveries = 0
        while executions < 12_000 && Date().timeIntervalSince(started) < 8 {
            let seed = seeds.randomElement(using: &random)!
            let mutant = Self.mutate(seed, other: seeds.randomElement(using: &random)!, using: &random)
            executions += 1
            guard !mutant.isEmpty else { continue }
            if let info = try? log.append(ByteBuffer(bytes: mutant), decompressionBudget: 1 << 20) {
                accepted += 1
                #expect(try Self.readBack(log, from: info.firstOffset) == info.recordCount)
            }
            if executions % 8 == 0 {
                _ = try? mutant.withUnsafeBytes {
                    try MessageFormatConverter.downConvert(
                        $0, toMagic: 1, fromOffset: 0, maxBytes: 1 << 16, maxDecompressedBytes: 1 << 20)
                }
                _ = try? BatchRecompressor.recompress(ByteBuffer(bytes: mutant), to: .gzip, maxDecompressedBytes: 1 << 20)
            }
            if executions % 32 == 0 {
                recoveries += 1
                try Self.recover(valid: seed, then: mutant)
            }
        }
        print("BatchMutationFuzzTests: \(executions) mutants, \(accepted) accepted, \(recoveries) recoveries")
        #expect(executions >= 500)
        // What was accepted survives an unclean reopen untouched.
        let end = log.logEndOffset
        try log.flush()
        let reopened = try PartitionLog(directory: directory.path, config: config, recoveryPoint: 0)
        #expect(reopened.logEndOffset == end)
        #expect(reopened.recoveryStats.bytesTruncated == 0)
    }

    /// A segment file holding the valid batch `valid`, then `mutant`: recovery keeps at least the valid batch.
    static func recover(valid: [UInt8], then mutant: [UInt8]) throws {
        let directory = TemporaryDirectory()
        try Data(valid + mutant).write(to: URL(fileURLWithPath: directory.file("00000000000000000000.log")))
        let log = try PartitionLog(directory: directory.path, config: smallConfig())
        let validCount = Int64(try Batches.headers(valid)[0].recordCount)
        #expect(log.logEndOffset >= validCount)
        // Recovery checks structure, offsets and CRCs, not records (as Kafka's): read and decode leniently.
        var offset: Int64 = 0
        while let slice = try log.read(from: offset, maxBytes: 1 << 16) {
            let bytes = try slice.copyBytes()
            if let header = try? bytes.withUnsafeBytes({ try RecordBatchHeader(parsing: $0, at: 0) }) {
                _ = try? bytes.withUnsafeBytes { try header.decodeRecords(in: $0, at: 0, maxDecompressedBytes: 1 << 20) }
            }
            offset = slice.nextOffset
        }
        _ = try log.offset(forTimestamp: 0)
        try log.append(Batches.buffer())
        try log.close()
        _ = try PartitionLog(directory: directory.path, config: smallConfig())
    }

    @Test func mutatedLegacyMessageSets_neverCrashUpConversion() throws {
        var random = Generator(state: 0x1E6AC7)
        var seeds: [[UInt8]] = []
        for magic in [Int8(0), 1] {
            let records = (0..<4).map {
                DecodedRecord(offset: Int64($0), timestamp: 1_700_000_000_000, key: [UInt8($0)], value: Array("v\($0)".utf8))
            }
            seeds.append(LegacyMessageSet.encode(records, magic: magic))
            for codec in [CompressionCodec.gzip, .snappy, .lz4] {
                seeds.append(try LegacyMessageSet.encodeCompressed(records, magic: magic, compression: codec))
            }
        }
        var executions = 0
        var converted = 0
        for _ in 0..<3000 {
            let mutant = Self.mutate(seeds.randomElement(using: &random)!, other: seeds.randomElement(using: &random)!, using: &random)
            executions += 1
            guard let batch = try? mutant.withUnsafeBytes({
                try MessageFormatConverter.upConvert($0, maxDecompressedBytes: 1 << 20)
            }) else { continue }
            converted += 1
            let header = try #require(try Batches.headers(batch).first)
            #expect(try batch.withUnsafeBytes { try header.decodeRecords(in: $0, at: 0) }.count == Int(header.recordCount))
        }
        print("BatchMutationFuzzTests: \(executions) legacy mutants, \(converted) up-converted")
    }
}
