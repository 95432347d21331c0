import NIOCore
import Testing
@testable import LogEngine

struct PartitionLogTruncationTests {
    private struct Crash: Error {}

    private func allBytes(_ log: PartitionLog) throws -> [UInt8] {
        try allLogBytes(log)
    }

    /// 8 batches of 3 records over several 4 KiB segments, epochs 0 (offsets 0–11) and 3 (12–23).
    private func filledLog(_ directory: TemporaryDirectory) throws -> PartitionLog {
        let log = try PartitionLog(directory: directory.path, config: smallConfig(segmentBytes: 1024))
        for index in 0..<8 {
            if index == 4 { try log.becomeLeader(epoch: 3) }
            try log.append(Batches.buffer(count: 3, seed: index, valueSize: 120))
        }
        #expect(log.segments.count > 2)
        return log
    }

    @Test func truncateTo_removesEverythingFromTheBatchHoldingTheOffset() throws {
        let directory = TemporaryDirectory()
        let log = try filledLog(directory)
        let expected = try allBytes(log)
        let keep = try Batches.headers(expected).prefix { $0.lastOffset < 13 }.reduce(0) { $0 + $1.totalSize }
        #expect(try log.truncate(to: 13))
        #expect(log.logEndOffset == 12, "the batch holding offset 13 (12–14) goes whole")
        #expect(log.highWatermark == 12 && log.lastStableOffset == 12)
        #expect(try allBytes(log) == Array(expected.prefix(keep)))
        #expect(log.leaderEpochCache.entries.map(\.description) == ["0 0"])
        #expect(try FileSystem.readString(directory.file(LeaderEpochCache.fileName)) == "0\n1\n0 0\n")
        #expect(!(try log.truncate(to: 12)), "nothing at or above the log end")
        // Appends continue from the new end, in the log's current epoch.
        try log.append(Batches.buffer(count: 2))
        #expect(log.logEndOffset == 14)
        #expect(log.leaderEpochCache.entries.map(\.description) == ["0 0", "3 12"])
        try log.close()
        let reopened = try PartitionLog(directory: directory.path, config: smallConfig(segmentBytes: 1024))
        #expect(reopened.logEndOffset == 14)
        #expect(try Batches.headers(try allBytes(reopened)).map(\.baseOffset) == [0, 3, 6, 9, 12])
    }

    @Test func truncateTo_reloadsTheProducerState() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(directory: directory.path, config: smallConfig())
        // A recent timestamp: reloading the producer state expires producers idle past producer.id.expiration.ms.
        var encoder = RecordBatchEncoder(baseTimestamp: LogClock.system.nowMs())
        encoder.producerId = 9
        encoder.producerEpoch = 0
        encoder.baseSequence = 0
        try log.append(ByteBuffer(bytes: encoder.build(count: 2) { Array("a\($0)".utf8) }))
        encoder.baseSequence = 2
        try log.append(ByteBuffer(bytes: encoder.build(count: 2) { Array("b\($0)".utf8) }))
        try log.truncate(to: 2)
        let producer = try #require(log.activeProducers.first)
        #expect(producer.batches.last?.lastSequence == 1 && producer.batches.last?.lastOffset == 1)
        // The producer's retry of the removed batch is now its next batch, not a duplicate.
        let retry = try log.append(ByteBuffer(bytes: encoder.build(count: 2) { Array("b\($0)".utf8) }))
        #expect(!retry.isDuplicate && retry.firstOffset == 2)
    }

    @Test func truncateTo_belowTheFirstSegmentStartsAfresh() throws {
        let directory = TemporaryDirectory()
        let log = try filledLog(directory)
        try log.deleteRecords(before: 9)
        let start = try #require(log.segments.first).baseOffset
        #expect(start > 0)
        try log.truncateFullyAndStartAt(100)
        #expect(log.logStartOffset == 100 && log.logEndOffset == 100 && log.highWatermark == 100)
        #expect(log.segments.map(\.baseOffset) == [100])
        #expect(log.leaderEpochCache.entries.isEmpty)
        try log.append(Batches.buffer(count: 1))
        #expect(log.leaderEpochCache.entries.map(\.description) == ["3 100"])
        #expect(try log.truncate(to: 50), "below the first segment: the whole log goes")
        #expect(log.logStartOffset == 50 && log.logEndOffset == 50)
    }

    /// A crash after each step (the process gone, the files as left) opens to a consistent log: a prefix of
    /// the old one, at most as long as before and at least as long as the truncation asked.
    @Test(arguments: [PartitionLog.TruncationStep.deletedHigherSegments, .wroteSwap])
    func truncateTo_crashAtEveryStepOpensToAPrefix(step: PartitionLog.TruncationStep) throws {
        let directory = TemporaryDirectory()
        let original = try filledLog(directory)
        let expected = try allBytes(original)
        try original.flush()
        #expect(throws: Crash.self) {
            try original.truncate(to: 13) { if $0 == step { throw Crash() } }
        }
        let reopened = try PartitionLog(directory: directory.path, config: smallConfig(segmentBytes: 1024))
        let bytes = try allBytes(reopened)
        #expect(reopened.logEndOffset >= 12)
        #expect(Array(expected.prefix(bytes.count)) == bytes)
        _ = try Batches.headers(bytes)
        let entries = reopened.leaderEpochCache.entries
        #expect(entries.allSatisfy { $0.startOffset < reopened.logEndOffset })
        // Finishing the truncation after the restart gives the same log as an uninterrupted one.
        try reopened.truncate(to: 13)
        #expect(reopened.logEndOffset == 12)
        #expect(try allBytes(reopened) == Array(expected.prefix(try cutSize(expected, 13))))
        try reopened.close()
    }

    private func cutSize(_ bytes: [UInt8], _ offset: Int64) throws -> Int {
        try Batches.headers(bytes).prefix { $0.lastOffset < offset }.reduce(0) { $0 + $1.totalSize }
    }
}
