import Foundation
import LogEngine
import NIOCore
import Testing
@testable import PortaskVerifyKit

struct VerifierTests {
    @Test func kafkaFormatPartition_isClean_withCountsAndDeepRecordChecks() throws {
        let directory = TemporaryDirectory()
        let (partition, _) = try makeKafkaPartition(in: directory.path)
        for deep in [false, true] {
            let report = try Verifier(deep: deep).verify([partition])
            #expect(report.isClean, "\(report.text)")
            #expect(report.warnings.isEmpty)
            #expect(report.totals.segments == 3 && report.totals.batches == 24 && report.totals.records == 72)
            #expect(report.totals.offsetIndexEntries > 3 && report.totals.timeIndexEntries > 3)
        }
    }

    @Test func logEngineDataDirectory_isClean() throws {
        let directory = TemporaryDirectory()
        let config = LogConfig(segmentBytes: 4096, indexIntervalBytes: 256, segmentIndexBytes: 4096)
        do {
            let manager = try LogManager(directory: directory.path, defaultConfig: config)
            for partition in Int32(0)..<2 {
                let log = try manager.createLog(for: TopicPartition("events", partition))
                for seed in 0..<40 {
                    let batch = RecordBatchEncoder(baseTimestamp: 1_700_000_000_000 + Int64(seed)).build(count: 4) {
                        Array("value-\(seed)-\($0)".utf8) + [UInt8](repeating: 7, count: 40)
                    }
                    try log.append(ByteBuffer(bytes: batch))
                }
            }
            try manager.close()
        }
        let report = try Verifier(deep: true).verify([directory.path])
        #expect(report.isClean, "\(report.text)")
        #expect(report.totals.partitions == 2 && report.totals.records == 320 && report.totals.checkpoints == 5)  // 3 per data dir, 1 epoch file per partition
        #expect(report.totals.segments > 4)
    }

    @Test func flippedByte_isCrcMismatch_repairedByTruncation() throws {
        let directory = TemporaryDirectory()
        let (partition, _) = try makeKafkaPartition(in: directory.path)
        let log = segmentPath(partition, 24, ".log")
        let third = try batchPositions(log)[3].position
        try Damager.modify(log) { $0[third + 70] ^= 0x10 }
        try expectFoundRepairedClean([partition], .crcMismatch)
        // Recovery cut segment 24 at the damaged batch and removed the later segment.
        #expect(try batchPositions(log).count == 3)
        #expect(!FileManager.default.fileExists(atPath: segmentPath(partition, 48, ".log")))
    }

    @Test func tornTail_isFound_andTruncated() throws {
        let directory = TemporaryDirectory()
        let (partition, _) = try makeKafkaPartition(in: directory.path)
        let log = segmentPath(partition, 48, ".log")
        try Damager.modify(log) { $0.removeLast(10) }
        try expectFoundRepairedClean([partition], .tornTail)
        #expect(try batchPositions(log).count == 7)
    }

    @Test func zeroFilledTail_ofLastSegment_isANote_andTruncated() throws {
        let directory = TemporaryDirectory()
        let (partition, _) = try makeKafkaPartition(in: directory.path)
        let log = segmentPath(partition, 48, ".log")
        let size = Damager.size(log)
        try Damager.modify(log) { $0 += [UInt8](repeating: 0, count: 4096) }
        try expectNotedRepairedClean([partition], .zeroFilledTail)
        #expect(Damager.size(log) == size)
    }

    @Test func zeroFilledTail_ofEarlierSegment_isDamage() throws {
        let directory = TemporaryDirectory()
        let (partition, _) = try makeKafkaPartition(in: directory.path)
        try Damager.modify(segmentPath(partition, 0, ".log")) { $0 += [UInt8](repeating: 0, count: 4096) }
        let report = try Verifier().verify([partition])
        #expect(report.damageKinds.contains(.zeroFilledTail))
        #expect(report.exitStatus == 1)
    }

    @Test func offsetsGoingBackwards_areFound_andTruncated() throws {
        let directory = TemporaryDirectory()
        let (partition, _) = try makeKafkaPartition(in: directory.path)
        let log = segmentPath(partition, 0, ".log")
        let batches = try batchPositions(log)
        // The CRC does not cover the base offset: the batch stays valid but repeats offsets.
        try Damager.modify(log) { bytes in
            for index in 0..<8 { bytes[batches[5].position + index] = 0 }
            bytes[batches[5].position + 7] = UInt8(batches[4].header.baseOffset)
        }
        try expectFoundRepairedClean([partition], .offsetsBackwards)
        #expect(try batchPositions(log).count == 5)
    }

    @Test func indexEntryMidBatch_isFound_andIndexRebuilt() throws {
        let directory = TemporaryDirectory()
        let (partition, _) = try makeKafkaPartition(in: directory.path)
        try Damager.modify(segmentPath(partition, 24, ".index")) { $0[7] &+= 5 }
        try expectFoundRepairedClean([partition], .indexEntryMidBatch)
    }

    @Test func indexEntryPastEnd_isFound_andIndexRebuilt() throws {
        let directory = TemporaryDirectory()
        let (partition, _) = try makeKafkaPartition(in: directory.path)
        let index = segmentPath(partition, 0, ".index")
        try Damager.modify(index) { bytes in
            KafkaBatch.int(23, 4, &bytes)
            KafkaBatch.int(1 << 20, 4, &bytes)
        }
        try expectFoundRepairedClean([partition], .indexEntryPastEnd)
    }

    @Test func nonMonotonicTimeIndex_isFound_andIndexRebuilt() throws {
        let directory = TemporaryDirectory()
        let (partition, _) = try makeKafkaPartition(in: directory.path)
        let timeIndex = segmentPath(partition, 0, ".timeindex")
        try Damager.modify(timeIndex) { bytes in
            // Second entry's timestamp below the first's.
            for index in 0..<8 { bytes[12 + index] = bytes[index] }
            bytes[19] &-= 1
        }
        try expectFoundRepairedClean([partition], .timeIndexNotMonotonic)
    }

    @Test func malformedCheckpoint_isFound_movedAsideAndRewritten() throws {
        let directory = TemporaryDirectory()
        try makeKafkaPartition(in: directory.path)
        let checkpoint = directory.file(LogManager.recoveryPointCheckpointName)
        try Damager.write(Array("0\n2\norders 0 12\n".utf8), checkpoint)
        try expectFoundRepairedClean([directory.path], .badCheckpoint)
        #expect(FileManager.default.fileExists(atPath: checkpoint + ".corrupt"))
        let entries = try OffsetCheckpointFile(directory: directory.path, name: LogManager.recoveryPointCheckpointName).read()
        #expect(entries == [TopicPartition("orders", 0): 0])
    }

    @Test func checkpointBeyondLogEnd_isFound_andLowered() throws {
        let directory = TemporaryDirectory()
        let (_, logEnd) = try makeKafkaPartition(in: directory.path)
        let file = OffsetCheckpointFile(directory: directory.path, name: LogManager.recoveryPointCheckpointName)
        try file.write([TopicPartition("orders", 0): logEnd + 100])
        try expectFoundRepairedClean([directory.path], .checkpointBeyondLogEnd)
        #expect(try file.read() == [TopicPartition("orders", 0): logEnd])
    }

    @Test func tornTailInDataDirectory_lowersTheRecoveryPointToo() throws {
        let directory = TemporaryDirectory()
        let (partition, logEnd) = try makeKafkaPartition(in: directory.path)
        let file = OffsetCheckpointFile(directory: directory.path, name: LogManager.recoveryPointCheckpointName)
        try file.write([TopicPartition("orders", 0): logEnd])
        try Damager.modify(segmentPath(partition, 48, ".log")) { $0.removeLast(3) }
        let report = try Verifier().verify([directory.path])
        // The final time index entry names the torn batch's offset too.
        #expect(report.damageKinds == [.tornTail, .checkpointBeyondLogEnd, .timeIndexEntryPastEnd])
        try expectFoundRepairedClean([directory.path], .tornTail)
        #expect(try file.read() == [TopicPartition("orders", 0): logEnd - 3])
    }

    @Test func unreadableProducerSnapshot_isFound_andRemoved() throws {
        let directory = TemporaryDirectory()
        let (partition, _) = try makeKafkaPartition(in: directory.path)
        try Damager.write([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], partition + "/" + LogSegment.fileName(24, suffix: ".snapshot"))
        try expectFoundRepairedClean([partition], .badProducerSnapshot)
    }

    @Test func overlappingSegments_areFound_butNotRepairable() throws {
        let directory = TemporaryDirectory()
        let (partition, _) = try makeKafkaPartition(in: directory.path)
        for suffix in [".log", ".index", ".timeindex"] {
            try FileManager.default.moveItem(atPath: segmentPath(partition, 48, suffix), toPath: segmentPath(partition, 40, suffix))
        }
        let report = try Verifier().verifyAndRepair([partition])
        #expect(report.damageKinds.contains(.segmentOverlap))
        #expect(report.remainingDamage?.map(\.kind).contains(.segmentOverlap) == true)
        #expect(report.status == "damaged" && report.exitStatus == 1)
    }

    @Test func badTimestamp_isFound_butNotRepairable() throws {
        let directory = TemporaryDirectory()
        let log = directory.file(LogSegment.fileName(0, suffix: ".log"))
        let batch = try KafkaBatch.build(baseOffset: 0, records: [FixtureRecord(key: nil, value: [1], timestampDelta: -5)])
        try Damager.write(batch, log)
        let report = try Verifier().verify([log])
        #expect(report.damageKinds == [.badTimestamp])
        #expect(report.damage.allSatisfy { !$0.repairable })
    }

    @Test func singleSegmentFiles_areCheckedAndRepairedAlone() throws {
        let directory = TemporaryDirectory()
        let (partition, _) = try makeKafkaPartition(in: directory.path)
        let log = segmentPath(partition, 24, ".log")
        try Damager.modify(log) { $0.removeLast(20) }
        try expectFoundRepairedClean([log], .tornTail)
        let index = segmentPath(partition, 0, ".index")
        try Damager.modify(index) { $0[7] &+= 1 }
        let timeIndex = segmentPath(partition, 0, ".timeindex")
        #expect(try Verifier().verify([timeIndex]).isClean)
        try expectFoundRepairedClean([index], .indexEntryMidBatch)
        #expect(try Verifier().verify([partition]).isClean)
    }

    @Test func olderKafkaIndexEntries_forMultiBatchAppends_areAccepted() throws {
        let directory = TemporaryDirectory()
        var writer = KafkaSegmentWriter(directory: directory.path, baseOffset: 0)
        for batch in 0..<4 {
            try writer.append(KafkaBatch.build(
                baseOffset: Int64(batch * 2), records: [FixtureRecord(value: [1]), FixtureRecord(value: [2])]))
        }
        // Kafka before 3.7 indexed the largest offset of a whole append at the position of its first batch.
        writer.offsetIndex = []
        KafkaBatch.int(5, 4, &writer.offsetIndex)
        KafkaBatch.int(Int64(try batchPositionsOf(writer.log)[2]), 4, &writer.offsetIndex)
        try writer.write()
        let report = try Verifier().verify([directory.path])
        #expect(report.isClean, "\(report.text)")
    }

    @Test func missingIndex_isAWarning_andRebuiltByRepair() throws {
        let directory = TemporaryDirectory()
        let (partition, _) = try makeKafkaPartition(in: directory.path)
        let index = segmentPath(partition, 24, ".index")
        try FileManager.default.removeItem(atPath: index)
        let report = try Verifier().verify([partition])
        #expect(report.isClean && report.warnings.count == 1)
        let repaired = try Verifier().verifyAndRepair([partition])
        #expect(repaired.repairs?.count == 1)
        #expect(FileManager.default.fileExists(atPath: index))
        #expect(try Verifier().verify([partition]).warnings.isEmpty)
    }

    @Test func missingPath_isAnIOError_andUnknownFile_aUsageError() throws {
        #expect(throws: VerifyError.self) { try Verifier().verify(["/nonexistent/portask"]) }
        let directory = TemporaryDirectory()
        try Damager.write([1], directory.file("notes.txt"))
        #expect(throws: VerifyError(.usage, "not a directory, .log, .index or .timeindex file",
                                    context: directory.file("notes.txt"))) {
            try Verifier().verify([directory.file("notes.txt")])
        }
    }

    /// The CRC does not cover the base offset: one near Int64.max must be reported and cut, not crash recovery.
    @Test func baseOffsetOutOfRange_isFound_andTruncatedByRecovery() throws {
        let directory = TemporaryDirectory()
        let (partition, _) = try makeKafkaPartition(in: directory.path, segments: 1, batchesPerSegment: 4)
        let log = segmentPath(partition, 0, ".log")
        let third = try batchPositions(log)[2].position
        try Damager.modify(log) { bytes in
            bytes[third] = 0x7F
            for index in 1..<8 { bytes[third + index] = 0xFF }
        }
        try expectFoundRepairedClean([partition], .offsetOverflow)
        #expect(try batchPositions(log).count == 2)
    }
}
