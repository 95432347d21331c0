import Foundation
import LogEngine
import Testing
@testable import PortaskVerifyKit

struct SegmentCheckTests {
    /// Kafka's log cleaner keeps a header-only batch (no records) for an idempotent producer's last sequence.
    @Test func emptyBatchLeftByKafkasCleaner_isValid() throws {
        let directory = TemporaryDirectory()
        var writer = KafkaSegmentWriter(directory: directory.path, baseOffset: 0)
        try writer.append(KafkaBatch.build(baseOffset: 0, records: [FixtureRecord(value: [1])]))
        var empty = try KafkaBatch.build(baseOffset: 1, records: [FixtureRecord(value: [2]), FixtureRecord(value: [3])],
                                         producerId: 9, producerEpoch: 0, baseSequence: 4)
        empty = Array(empty.prefix(RecordBatchHeader.size))
        empty[8..<12] = [0, 0, 0, UInt8(RecordBatchHeader.size - 12)]
        empty[57..<61] = [0, 0, 0, 0]
        let crc = empty.withUnsafeBytes { RecordBatchHeader.computeCRC(in: $0, at: 0, totalSize: empty.count) }
        for index in 0..<4 { empty[17 + index] = UInt8(truncatingIfNeeded: crc >> (24 - 8 * UInt32(index))) }
        try writer.append(empty)
        try writer.append(KafkaBatch.build(baseOffset: 3, records: [FixtureRecord(value: [4])]))
        try writer.write()
        let report = try Verifier(deep: true).verify([directory.path])
        #expect(report.isClean, "\(report.text)")
        // An empty batch (as Kafka's cleaner leaves for idempotent producers) is a valid stored batch.
        #expect(report.warnings.isEmpty, "\(report.warnings)")
        var output = ""
        try Dumper(detail: .data).dump([writer.path(".log")], to: &output)
        #expect(output.contains("baseOffset: 1 lastOffset: 2 count: 0 ") && !output.contains("isvalid: false"))
    }

    /// Random bytes after valid batches, in batch headers and in indexes: damage reported and repaired, never a
    /// crash.
    @Test func randomGarbage_isReported_neverACrash() throws {
        var generator = SystemRandomNumberGenerator()
        for round in 0..<40 {
            let directory = TemporaryDirectory()
            let (partition, _) = try makeKafkaPartition(in: directory.path, segments: 1, batchesPerSegment: 4)
            let log = segmentPath(partition, 0, ".log")
            try Damager.modify(log) { bytes in
                if round % 2 == 0 {
                    let start = Int.random(in: 0..<bytes.count, using: &generator)
                    for index in start..<min(bytes.count, start + 61) { bytes[index] = UInt8.random(in: 0...255, using: &generator) }
                } else {
                    bytes += (0..<Int.random(in: 1..<300, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
                }
            }
            for suffix in [".index", ".timeindex"] {
                try Damager.modify(segmentPath(partition, 0, suffix)) { bytes in
                    for index in bytes.indices where Bool.random(using: &generator) { bytes[index] = UInt8.random(in: 0...255, using: &generator) }
                }
            }
            _ = try Verifier(deep: true).verify([partition])
            var output = ""
            try Dumper(detail: .data, json: round % 3 == 0).dump([partition], to: &output)
            for suffix in [".index", ".timeindex"] { try Dumper().dump([segmentPath(partition, 0, suffix)], to: &output) }
            let repaired = try Verifier().verifyAndRepair([partition])
            #expect(repaired.remainingDamage?.allSatisfy { !$0.repairable } == true, "\(repaired.text)")
        }
    }

    @Test func timestampsFarInTheFuture_areAWarningOncePerSegment() throws {
        let directory = TemporaryDirectory()
        let log = directory.file(LogSegment.fileName(0, suffix: ".log"))
        let future: Int64 = 4_000_000_000_000  // year 2096
        let batches = try (0..<3).flatMap { index in
            try KafkaBatch.build(baseOffset: Int64(index), records: [FixtureRecord(value: [1])], baseTimestamp: future)
        }
        try Damager.write(batches, log)
        let report = try Verifier().verify([log])
        #expect(report.isClean && report.warnings.count == 1)
        #expect(report.warnings.first?.message.contains("in the future") == true)
    }
}
