import Foundation
import NIOCore
import Testing
@testable import LogEngine

/// Bounded, deterministic fuzzing of start-up: a partition directory (several segments, indexes, producer
/// snapshots, an idempotent producer) is copied, one or two of its files are damaged (bit flips, extreme 32- and
/// 64-bit values at entry boundaries, truncation, zero or garbage tails, removal), and the log is opened with a
/// recovery point of 0, the log end or Int64.max. Opening must not crash; the log must then serve reads, a
/// timestamp lookup, an append, a close and a second open. Seed 0x57A27: 400 openings in about 5 s in a debug build
/// (the count is printed; capped at 8 s).
struct StartupFuzzTests {
    typealias Generator = BatchMutationFuzzTests.Generator

    /// The template partition: 5 segments of idempotent and plain batches, closed cleanly (snapshots written).
    static func template(in directory: String) throws -> (config: LogConfig, logEnd: Int64) {
        let config = smallConfig(segmentBytes: 1024, indexIntervalBytes: 64, segmentIndexBytes: 1024)
        let log = try PartitionLog(directory: directory, config: config)
        var sequence: Int32 = 0
        for round in 0..<40 where !(round % 5 == 0 && round % 2 == 0) {
            var builder = RecordBatchEncoder(baseTimestamp: Int64(Date().timeIntervalSince1970 * 1000) + Int64(round))
            if round % 2 == 0 {
                builder.producerId = 11
                builder.producerEpoch = 0
                builder.baseSequence = sequence
                sequence += 3
            }
            let batch = round % 5 == 0
                ? try RecordBatchEncoder.encode(
                    (0..<3).map { DecodedRecord(offset: Int64($0), timestamp: 1_700_000_000_000, value: [UInt8($0)]) },
                    compression: .lz4)
                : builder.build(count: 3) { Array("round-\(round)-\($0)".utf8) }
            try log.append(ByteBuffer(bytes: batch))
        }
        try log.close()
        return (config, log.logEndOffset)
    }

    static let extremes32: [Int32] = [0, -1, .max, .min]
    static let extremes64: [Int64] = [0, -1, .max, .min]

    static func damage(_ path: String, using random: inout Generator) throws {
        guard FileManager.default.fileExists(atPath: path) else { return }
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let entry = path.hasSuffix(".timeindex") ? 12 : path.hasSuffix(".index") ? 8 : 4
        switch Int.random(in: 0..<7, using: &random) {
        case 0:
            if !bytes.isEmpty { bytes[Int.random(in: 0..<bytes.count, using: &random)] ^= 1 << UInt8.random(in: 0..<8, using: &random) }
        case 1:
            if bytes.count >= 4 {
                let at = Int.random(in: 0...(bytes.count - 4) / entry, using: &random) * entry
                let value = extremes32.randomElement(using: &random)!
                if at + 4 <= bytes.count { bytes.withUnsafeMutableBytes { $0.storeInt32BE(value, at: at) } }
            }
        case 2:
            if bytes.count >= 8 {
                let at = Int.random(in: 0...(bytes.count - 8), using: &random)
                let value = extremes64.randomElement(using: &random)!
                bytes.withUnsafeMutableBytes { $0.storeInt64BE(value, at: at) }
            }
        case 3:
            if !bytes.isEmpty { bytes.removeLast(Int.random(in: 1...bytes.count, using: &random)) }
        case 4:
            bytes += [UInt8](repeating: 0, count: Int.random(in: 1...4096, using: &random))
        case 5:
            bytes += (0..<Int.random(in: 1...300, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
        default:
            try FileManager.default.removeItem(atPath: path)
            return
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    @Test func damagedPartitionFiles_neverCrashStartUp() throws {
        let template = TemporaryDirectory()
        let (config, logEnd) = try Self.template(in: template.path)
        let names = try FileManager.default.contentsOfDirectory(atPath: template.path).sorted()
        #expect(names.contains { $0.hasSuffix(".snapshot") } && names.filter { $0.hasSuffix(".log") }.count >= 4)
        var random = Generator(state: 0x57A27)
        let started = Date()
        var openings = 0
        var truncated = 0
        while openings < 400 && Date().timeIntervalSince(started) < 8 {
            let directory = TemporaryDirectory()
            for name in names {
                try FileManager.default.copyItem(atPath: template.file(name), toPath: directory.file(name))
            }
            for _ in 0..<Int.random(in: 1...2, using: &random) {
                try Self.damage(directory.file(names.randomElement(using: &random)!), using: &random)
            }
            let recoveryPoint = [Int64(0), logEnd, .max].randomElement(using: &random)!
            let log = try PartitionLog(directory: directory.path, config: config, recoveryPoint: recoveryPoint)
            openings += 1
            if log.logEndOffset < logEnd { truncated += 1 }
            #expect(log.logEndOffset <= logEnd || recoveryPoint == .max)
            var offset = log.logStartOffset
            while let slice = try? log.read(from: offset, maxBytes: 512), slice.nextOffset > offset {
                offset = slice.nextOffset
            }
            _ = try? log.offset(forTimestamp: 1_700_000_000_000)
            _ = log.activeProducers
            log.removeExpiredProducers()
            try log.append(Batches.buffer())
            try log.close()
            let reopened = try PartitionLog(directory: directory.path, config: config)
            // A full scan at the first open leaves nothing for the second to cut (later recovery points skip
            // the CRC checks of older segments, as Kafka's recovery does).
            if recoveryPoint == 0 { #expect(reopened.logEndOffset == log.logEndOffset) }
        }
        print("StartupFuzzTests: \(openings) damaged partitions opened, \(truncated) cut back")
        #expect(openings >= 20)
    }
}
