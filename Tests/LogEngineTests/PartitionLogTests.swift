import Foundation
import NIOCore
import Testing
@testable import LogEngine

struct PartitionLogTests {
    @Test func append_assignsConsecutiveOffsets() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(directory: directory.path, config: smallConfig())
        let first = try log.append(Batches.buffer(count: 3))
        let second = try log.append(Batches.buffer(count: 2))
        #expect(first.firstOffset == 0 && first.lastOffset == 2 && first.recordCount == 3)
        #expect(second.firstOffset == 3 && second.lastOffset == 4)
        #expect(log.logEndOffset == 5)
        #expect(log.highWatermark == 5)
        #expect(log.logStartOffset == 0)
        #expect(first.logAppendTime == -1)
    }

    @Test func append_withSeveralBatches_writesAllAndStoresThemByteForByte() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(directory: directory.path, config: smallConfig())
        let a = Batches.bytes(count: 2, seed: 1)
        let b = Batches.bytes(count: 4, seed: 2)
        let info = try log.append(Batches.buffer(a + b))
        #expect(info.batchCount == 2 && info.recordCount == 6 && info.lastOffset == 5)
        let slice = try #require(try log.read(from: 0, maxBytes: 1 << 20))
        #expect(try slice.copyBytes() == Batches.stored(a, baseOffset: 0, leaderEpoch: 0) + Batches.stored(b, baseOffset: 2, leaderEpoch: 0))
    }

    @Test func append_whenOneBatchInvalid_appendsNothing() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(directory: directory.path, config: smallConfig())
        var bad = Batches.bytes(seed: 2)
        bad[bad.count - 1] ^= 1
        #expect(throws: LogEngineError.self) { try log.append(Batches.buffer(Batches.bytes(seed: 1) + bad)) }
        #expect(log.logEndOffset == 0)
        #expect(log.sizeInBytes == 0)
    }

    @Test func append_whenBatchExceedsMaxMessageBytes_throwsRecordTooLarge() throws {
        let directory = TemporaryDirectory()
        var config = smallConfig()
        config.maxMessageBytes = 200
        let log = try PartitionLog(directory: directory.path, config: config)
        do {
            try log.append(Batches.buffer(count: 1, valueSize: 300))
            Issue.record("append succeeded")
        } catch let error as LogEngineError {
            #expect(error.code == .recordTooLarge)
        }
    }

    @Test func append_underLogAppendTime_stampsBatchesWithValidCRC() throws {
        let directory = TemporaryDirectory()
        let clock = ManualClock(5_000)
        let log = try PartitionLog(
            directory: directory.path, config: smallConfig(timestampType: .logAppendTime), clock: clock.logClock)
        let info = try log.append(Batches.buffer(timestamp: 10))
        #expect(info.logAppendTime == 5_000)
        let stored = try #require(try log.read(from: 0, maxBytes: 1 << 20)).copyBytes()
        let header = try #require(try Batches.headers(stored).first)
        #expect(header.isLogAppendTime && header.maxTimestamp == 5_000)
    }

    @Test func append_rollsWhenSegmentBytesReached() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(directory: directory.path, config: smallConfig(segmentBytes: 1024))
        let batch = Batches.bytes(count: 2, valueSize: 100)
        for _ in 0..<20 { try log.append(Batches.buffer(batch)) }
        let segments = log.segments
        #expect(segments.count > 3)
        for segment in segments { #expect(segment.size <= 1024) }
        #expect(segments.map(\.baseOffset) == segments.map(\.baseOffset).sorted())
        let names = try FileSystem.list(directory.path).filter { $0.hasSuffix(".log") }.sorted()
        #expect(names == segments.map { LogSegment.fileName($0.baseOffset, suffix: ".log") })
        // Inactive segments' indexes are trimmed.
        let inactiveIndex = segments[0].offsetIndex.file.path
        #expect((FileSystem.fileInfo(inactiveIndex)?.size ?? -1) < 4096)
    }

    @Test func append_rollsWhenSegmentMsPassedBetweenBatchTimestamps() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(
            directory: directory.path, config: smallConfig(segmentBytes: 1 << 20, segmentMs: 1000))
        try log.append(Batches.buffer(count: 1, timestamp: 10_000))
        try log.append(Batches.buffer(count: 1, timestamp: 11_000))
        #expect(log.segments.count == 1)
        try log.append(Batches.buffer(count: 1, timestamp: 11_001))
        #expect(log.segments.map(\.baseOffset) == [0, 2])
    }

    @Test func append_underLogAppendTime_rollsWhenSegmentMsPassedOnTheClock() throws {
        let directory = TemporaryDirectory()
        let clock = ManualClock()
        let log = try PartitionLog(
            directory: directory.path,
            config: smallConfig(segmentBytes: 1 << 20, segmentMs: 1000, timestampType: .logAppendTime),
            clock: clock.logClock)
        try log.append(Batches.buffer())
        clock.advance(by: 1000)
        try log.append(Batches.buffer())
        #expect(log.segments.count == 1)
        clock.advance(by: 1)
        try log.append(Batches.buffer())
        #expect(log.segments.map(\.baseOffset) == [0, 6])
    }

    @Test func append_withoutTimestamps_rollsOnSegmentAge() throws {
        let directory = TemporaryDirectory()
        let clock = ManualClock()
        let log = try PartitionLog(
            directory: directory.path, config: smallConfig(segmentBytes: 1 << 20, segmentMs: 1000),
            clock: clock.logClock)
        try log.append(Batches.buffer(count: 1, timestamp: -1))
        clock.advance(by: 1001)
        try log.append(Batches.buffer(count: 1, timestamp: -1))
        #expect(log.segments.map(\.baseOffset) == [0, 1])
    }

    @Test func append_rollsWhenIndexFull() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(
            directory: directory.path,
            config: smallConfig(segmentBytes: 1 << 20, indexIntervalBytes: 1, segmentIndexBytes: 32))
        for _ in 0..<12 { try log.append(Batches.buffer(count: 1)) }
        #expect(log.segments.count >= 2)
        for offset in Int64(0)..<12 {
            let slice = try #require(try log.read(from: offset, maxBytes: 1))
            #expect(slice.firstOffset == offset)
        }
    }

    @Test func read_acrossSegments_findsEveryOffset() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(directory: directory.path, config: smallConfig(segmentBytes: 1024))
        var expected: [Int64: [UInt8]] = [:]
        for seed in 0..<40 {
            let bytes = Batches.bytes(count: 3, seed: seed, valueSize: 30)
            let info = try log.append(Batches.buffer(bytes))
            expected[info.firstOffset] = Batches.stored(bytes, baseOffset: info.firstOffset, leaderEpoch: 0)
        }
        for offset in Int64(0)..<120 {
            let slice = try #require(try log.read(from: offset, maxBytes: 1))
            #expect(slice.firstOffset == offset - offset % 3)
            #expect(try slice.copyBytes() == expected[slice.firstOffset])
        }
        #expect(try log.read(from: 120, maxBytes: 100) == nil)
    }

    @Test func read_whenOffsetOutOfRange_throws() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(directory: directory.path, config: smallConfig())
        try log.append(Batches.buffer())
        #expect(throws: LogEngineError(.offsetOutOfRange, "offset 4 outside [0, 3]", context: directory.path)) {
            try log.read(from: 4, maxBytes: 10)
        }
        #expect(throws: LogEngineError.self) { try log.read(from: -1, maxBytes: 10) }
    }

    @Test func offsetForTimestamp_findsFirstRecordAtOrAfter() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(directory: directory.path, config: smallConfig(segmentBytes: 1024))
        // Batch i holds 3 records with timestamps 1000 + 10 i + (0, 1, 2).
        for batch in 0..<50 {
            try log.append(Batches.buffer(count: 3, timestamp: 1000 + Int64(batch * 10), seed: batch, valueSize: 20))
        }
        #expect(try log.offset(forTimestamp: 0) == 0)
        #expect(try log.offset(forTimestamp: 1000) == 0)
        #expect(try log.offset(forTimestamp: 1001) == 1)
        #expect(try log.offset(forTimestamp: 1003) == 3)
        #expect(try log.offset(forTimestamp: 1252) == 77)
        #expect(try log.offset(forTimestamp: 1492) == 149)
        #expect(try log.offset(forTimestamp: 1493) == nil)
        #expect(try log.offset(forTimestamp: PartitionLog.latestTimestamp) == 150)
        #expect(try log.offset(forTimestamp: PartitionLog.earliestTimestamp) == 0)
    }

    @Test func slice_staysReadableAfterSegmentDeleted() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(directory: directory.path, config: smallConfig(segmentBytes: 512))
        let bytes = Batches.bytes(count: 1, valueSize: 300)
        for _ in 0..<4 { try log.append(Batches.buffer(bytes)) }
        let slice = try #require(try log.read(from: 0, maxBytes: 1 << 20))
        #expect(try log.deleteRecords(before: 3) == 3)
        #expect(!FileSystem.exists(directory.file("00000000000000000000.log")))
        #expect(try slice.copyBytes() == Batches.stored(bytes, baseOffset: 0, leaderEpoch: 0))
        #expect(throws: LogEngineError.self) { try log.read(from: 0, maxBytes: 10) }
    }

    @Test func close_thenReopen_scansNothingAndKeepsEverything() throws {
        let directory = TemporaryDirectory()
        var all: [UInt8] = []
        do {
            let log = try PartitionLog(directory: directory.path, config: smallConfig(segmentBytes: 2048))
            for seed in 0..<30 {
                let bytes = Batches.bytes(count: 2, seed: seed, valueSize: 50)
                let info = try log.append(Batches.buffer(bytes))
                all += Batches.stored(bytes, baseOffset: info.firstOffset, leaderEpoch: 0)
            }
            try log.close()
            #expect(log.recoveryPoint == 60)
            #expect(throws: LogEngineError.self) { try log.append(Batches.buffer()) }
        }
        let reopened = try PartitionLog(
            directory: directory.path, config: smallConfig(segmentBytes: 2048), recoveryPoint: 60)
        #expect(reopened.recoveryStats.bytesScanned == 0)
        #expect(reopened.recoveryStats.segmentsScanned <= 1)
        #expect(reopened.logEndOffset == 60)
        var read: [UInt8] = []
        var offset: Int64 = 0
        while let slice = try reopened.read(from: offset, maxBytes: 1 << 20) {
            read += try slice.copyBytes()
            offset = slice.nextOffset
        }
        #expect(read == all)
        let info = try reopened.append(Batches.buffer())
        #expect(info.firstOffset == 60)
    }

    @Test func reopen_thenAppend_keepsIndexesConsistent() throws {
        let directory = TemporaryDirectory()
        let config = smallConfig(segmentBytes: 1 << 20, indexIntervalBytes: 100)
        do {
            let log = try PartitionLog(directory: directory.path, config: config)
            for seed in 0..<20 { try log.append(Batches.buffer(count: 2, timestamp: Int64(seed) * 10, seed: seed, valueSize: 50)) }
            try log.close()
        }
        let log = try PartitionLog(directory: directory.path, config: config, recoveryPoint: 40)
        for seed in 20..<40 { try log.append(Batches.buffer(count: 2, timestamp: Int64(seed) * 10, seed: seed, valueSize: 50)) }
        for offset in Int64(0)..<80 {
            #expect(try log.read(from: offset, maxBytes: 1)?.firstOffset == offset - offset % 2)
        }
        #expect(try log.offset(forTimestamp: 255) == 52)
        #expect(try log.offset(forTimestamp: 391) == 79)
        #expect(try log.offset(forTimestamp: 392) == nil)
        try log.segments.last?.offsetIndex.validate(logSize: log.sizeInBytes)
        try log.segments.last?.timeIndex.validate(lastOffset: 79)
    }
}

extension PartitionLogTests {
    @Test func appendListener_receivesHighWatermarkUntilRemoved() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(directory: directory.path, config: smallConfig())
        final class Seen: @unchecked Sendable {
            let lock = NSLock()
            var values: [Int64] = []
        }
        let seen = Seen()
        let id = log.addAppendListener { value in seen.lock.withLock { seen.values.append(value) } }
        try log.append(Batches.buffer(count: 3))
        try log.append(Batches.buffer(count: 2))
        log.removeAppendListener(id)
        try log.append(Batches.buffer(count: 1))
        #expect(seen.lock.withLock { seen.values } == [3, 5])
    }
}
