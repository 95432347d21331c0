import NIOCore
import Testing
@testable import LogEngine

struct DurabilityTests {
    @Test func appendDurably_completesAfterRecoveryPointCoversIt() async throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(directory: directory.path, config: smallConfig())
        let info = try await log.appendDurably(Batches.buffer())
        #expect(log.recoveryPoint >= info.lastOffset + 1)
    }

    @Test func appendDurably_withConcurrentAppenders_sharesFsyncs() async throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(directory: directory.path, config: smallConfig(segmentBytes: 1 << 20))
        let results = try await withThrowingTaskGroup(of: AppendInfo.self) { group in
            for seed in 0..<64 {
                group.addTask { try await log.appendDurably(Batches.buffer(count: 1, seed: seed)) }
            }
            var infos: [AppendInfo] = []
            for try await info in group { infos.append(info) }
            return infos
        }
        #expect(results.count == 64)
        #expect(Set(results.map(\.firstOffset)) == Set(0..<64))
        #expect(log.recoveryPoint == 64)
    }

    @Test func waitUntilDurable_whenAlreadyFlushed_returnsImmediately() async throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(directory: directory.path, config: smallConfig())
        try log.append(Batches.buffer())
        try log.flush()
        try await log.waitUntilDurable(3)
        #expect(log.recoveryPoint == 3)
    }

    @Test func append_whenFlushMessagesReached_schedulesAFlushOffTheAppendingThread() async throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(directory: directory.path, config: smallConfig(flushMessages: 5))
        let first = try log.append(Batches.buffer(count: 3))
        #expect(!first.flushScheduled)
        #expect(log.recoveryPoint == 0)
        let second = try log.append(Batches.buffer(count: 3))
        #expect(second.flushScheduled)
        // The fsync runs on the log's sync queue; the scheduled round covers the append without any waiter.
        let deadline = ContinuousClock.now + .seconds(10)
        while log.recoveryPoint < 6 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(log.recoveryPoint == 6)
    }

    @Test func flushIfDue_flushesOnlyAfterFlushMs() throws {
        let directory = TemporaryDirectory()
        let clock = ManualClock()
        let log = try PartitionLog(
            directory: directory.path, config: smallConfig(flushMs: 1000), clock: clock.logClock)
        try log.append(Batches.buffer())
        clock.advance(by: 500)
        try log.flushIfDue()
        #expect(log.recoveryPoint == 0)
        clock.advance(by: 500)
        try log.flushIfDue()
        #expect(log.recoveryPoint == 3)
    }

    @Test func flush_coversRolledSegments() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(directory: directory.path, config: smallConfig(segmentBytes: 512))
        for seed in 0..<10 { try log.append(Batches.buffer(count: 1, seed: seed, valueSize: 200)) }
        #expect(log.segments.count > 2)
        try log.flush()
        #expect(log.recoveryPoint == 10)
        let reopened = try PartitionLog(directory: directory.path, config: smallConfig(segmentBytes: 512), recoveryPoint: 10)
        #expect(reopened.recoveryStats.bytesScanned == 0)
        #expect(reopened.logEndOffset == 10)
    }
}
