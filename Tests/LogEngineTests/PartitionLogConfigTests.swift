import Foundation
import Testing
@testable import LogEngine

struct PartitionLogConfigTests {
    @Test func updateConfig_lowerMaxMessageBytes_rejectsTheNextLargerBatch() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(directory: directory.path, config: smallConfig())
        try log.append(Batches.buffer(count: 1, valueSize: 300))
        var lowered = log.config
        lowered.maxMessageBytes = 200
        try log.updateConfig(lowered)
        #expect(log.config.maxMessageBytes == 200)
        #expect(throws: LogEngineError.self) { try log.append(Batches.buffer(count: 1, valueSize: 300)) }
        try log.append(Batches.buffer(count: 1, valueSize: 10))
        lowered.maxMessageBytes = 1 << 20
        try log.updateConfig(lowered)
        try log.append(Batches.buffer(count: 1, valueSize: 300))
        #expect(log.logEndOffset == 3)
    }

    @Test func updateConfig_lowerRetentionMs_deletesAtTheNextRetentionRun() throws {
        let directory = TemporaryDirectory()
        let clock = ManualClock(10_000_000)
        let log = try PartitionLog(directory: directory.path, config: smallConfig(), clock: clock.logClock)
        try log.append(Batches.buffer(timestamp: 1_000))
        try log.roll()
        try log.append(Batches.buffer(timestamp: 10_000_000))
        #expect(try log.deleteOldSegments() == 0)
        try log.updateConfig(smallConfig(retentionMs: 60_000))
        #expect(try log.deleteOldSegments() == 1)
        #expect(log.logStartOffset == 3)
    }

    @Test func updateConfig_smallerSegmentBytes_rollsAtTheNextAppend() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(directory: directory.path, config: smallConfig(segmentBytes: 1 << 20))
        for _ in 0..<4 { try log.append(Batches.buffer(count: 2, valueSize: 100)) }
        #expect(log.segments.count == 1)
        try log.updateConfig(smallConfig(segmentBytes: 512))
        try log.append(Batches.buffer(count: 2, valueSize: 100))
        #expect(log.segments.count == 2)
    }

    @Test func updateConfig_invalid_isRejectedAndTheOldConfigKept() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(directory: directory.path, config: smallConfig())
        #expect(throws: LogEngineError.self) { try log.updateConfig(smallConfig(segmentBytes: 10)) }
        #expect(log.config == smallConfig())
    }

    @Test func updateConfig_whileAppending_isSafe() async throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(directory: directory.path, config: smallConfig(segmentBytes: 1 << 20))
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for _ in 0..<200 { _ = try? log.append(Batches.buffer(count: 1, valueSize: 50)) }
            }
            group.addTask {
                for index in 0..<200 {
                    try? log.updateConfig(smallConfig(segmentBytes: index % 2 == 0 ? 1 << 20 : 1 << 19))
                }
            }
        }
        #expect(log.logEndOffset == 200)
    }
}
