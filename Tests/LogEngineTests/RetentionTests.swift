import Testing
@testable import LogEngine

struct RetentionTests {
    @Test func deleteOldSegments_byRetentionMs_deletesExpiredSegmentsButNeverActive() throws {
        let directory = TemporaryDirectory()
        let clock = ManualClock(1_000_000)
        let log = try PartitionLog(
            directory: directory.path, config: smallConfig(segmentBytes: 1024, retentionMs: 10_000),
            clock: clock.logClock)
        // Old batches (timestamps around 1_000_000), then newer ones.
        for seed in 0..<10 { try log.append(Batches.buffer(count: 2, timestamp: 1_000_000, seed: seed, valueSize: 100)) }
        try log.roll()
        for seed in 0..<10 { try log.append(Batches.buffer(count: 2, timestamp: 1_050_000, seed: seed, valueSize: 100)) }
        let before = log.segments.count
        clock.advance(by: 5_000)
        #expect(try log.deleteOldSegments() == 0)
        clock.advance(by: 10_000)  // now 1_015_000: first generation expired
        let deleted = try log.deleteOldSegments()
        #expect(deleted > 0)
        #expect(log.segments.count == before - deleted)
        #expect(log.logStartOffset == 20)
        #expect(log.segments.first?.baseOffset == 20)
        clock.advance(by: 1_000_000)
        _ = try log.deleteOldSegments()
        #expect(log.segments.count == 1)
        #expect(log.logEndOffset == 40)
        #expect(try FileSystem.list(directory.path).filter { $0.hasSuffix(".deleted") }.isEmpty)
        #expect(try log.append(Batches.buffer()).firstOffset == 40)
    }

    @Test func deleteOldSegments_byRetentionBytes_keepsLogUnderLimit() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(directory: directory.path, config: smallConfig(segmentBytes: 1024, retentionBytes: 2500))
        for seed in 0..<40 { try log.append(Batches.buffer(count: 1, seed: seed, valueSize: 150)) }
        #expect(log.sizeInBytes > 2500)
        try log.deleteOldSegments()
        // Kafka's rule: delete the oldest segment only while the rest still holds at least retention.bytes.
        #expect(log.sizeInBytes >= 2500)
        #expect(log.sizeInBytes - (log.segments.first?.size ?? 0) < 2500)
        #expect(log.segments.count < 10)
        #expect(log.logStartOffset == log.segments[0].baseOffset)
        #expect(try log.read(from: log.logStartOffset, maxBytes: 1)?.firstOffset == log.logStartOffset)
    }

    @Test func deleteRecords_movesLogStartOffsetAndDeletesWholeSegmentsBelow() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(directory: directory.path, config: smallConfig(segmentBytes: 1024))
        for seed in 0..<30 { try log.append(Batches.buffer(count: 2, seed: seed, valueSize: 100)) }
        let segmentsBefore = log.segments
        let target = segmentsBefore[2].baseOffset + 1
        #expect(try log.deleteRecords(before: target) == target)
        #expect(log.logStartOffset == target)
        #expect(log.segments.first?.baseOffset == segmentsBefore[2].baseOffset)
        #expect(throws: LogEngineError.self) { try log.read(from: target - 1, maxBytes: 10) }
        #expect(try log.read(from: target, maxBytes: 10)?.firstOffset == target - 1)
        #expect(throws: LogEngineError.self) { try log.deleteRecords(before: 61) }
    }

    @Test func deleteRecords_toLogEnd_keepsActiveSegment() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(directory: directory.path, config: smallConfig(segmentBytes: 1024))
        for seed in 0..<10 { try log.append(Batches.buffer(count: 2, seed: seed, valueSize: 100)) }
        try log.deleteRecords(before: 20)
        #expect(log.logStartOffset == 20)
        #expect(log.segments.count == 1)
        #expect(try log.read(from: 20, maxBytes: 10) == nil)
        #expect(try log.append(Batches.buffer()).firstOffset == 20)
    }
}
