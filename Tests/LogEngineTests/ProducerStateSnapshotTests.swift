import Foundation
import NIOCore
import Testing
@testable import LogEngine

struct ProducerStateSnapshotTests {
    static let now: Int64 = 1_700_000_000_000

    /// A log with two producers: producer 7 with six batches (five retained), producer 9 with one.
    static func populated(_ directory: TemporaryDirectory, config: LogConfig = smallConfig(segmentBytes: 1 << 20)) throws
        -> PartitionLog
    {
        let log = try PartitionLog(directory: directory.path, config: config, clock: ManualClock(now).logClock)
        for index in 0..<6 {
            try log.append(ProducerBatches.buffer(epoch: 1, sequence: Int32(index * 2), timestamp: now))
        }
        try log.append(Batches.buffer(timestamp: now))
        try log.append(ProducerBatches.buffer(producerId: 9, epoch: 0, sequence: 0, count: 3, timestamp: now))
        return log
    }

    static func snapshotNames(_ directory: TemporaryDirectory) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".snapshot") }.sorted()
    }

    @Test func encodeDecode_roundTripsEveryRetainedBatch() throws {
        var entry = ProducerStateEntry(producerId: 5, producerEpoch: 2)
        for index in 0..<5 {
            entry.add(epoch: 2, batch: .init(
                firstSequence: Int32(index * 3), lastSequence: Int32(index * 3 + 2), firstOffset: Int64(index * 10),
                lastOffset: Int64(index * 10 + 2), timestamp: Int64(100 + index)))
        }
        var wrapped = ProducerStateEntry(producerId: 6, producerEpoch: 0)
        wrapped.add(epoch: 0, batch: .init(
            firstSequence: Int32.max - 1, lastSequence: 1, firstOffset: 50, lastOffset: 53, timestamp: 7))
        let state = ProducerStateManager(producers: [5: entry, 6: wrapped, 8: ProducerStateEntry(
            producerId: 8, producerEpoch: 3, lastTimestamp: 99)])
        let bytes = ProducerStateSnapshot.encode(state)
        #expect(bytes.count == ProducerStateSnapshot.headerSize + 7 * ProducerStateSnapshot.entrySize)
        #expect(try ProducerStateSnapshot.decode(bytes) == state)
    }

    @Test func decode_rejectsCorruptFiles() throws {
        let state = ProducerStateManager(producers: [1: ProducerStateEntry(producerId: 1, producerEpoch: 0)])
        var bytes = ProducerStateSnapshot.encode(state)
        bytes[bytes.count - 1] ^= 0xFF
        #expect(throws: LogEngineError.self) { try ProducerStateSnapshot.decode(bytes) }
        #expect(throws: LogEngineError.self) { try ProducerStateSnapshot.decode(Array(bytes.prefix(12))) }
        #expect(throws: LogEngineError.self) { try ProducerStateSnapshot.decode([0, 2, 0, 0, 0, 0, 0, 0, 0, 0]) }
    }

    @Test func layout_isKafkasVersion1WithTheLastEntryPerProducerLast() throws {
        var entry = ProducerStateEntry(producerId: 3, producerEpoch: 1)
        entry.add(epoch: 1, batch: .init(firstSequence: 0, lastSequence: 1, firstOffset: 10, lastOffset: 11, timestamp: 5))
        entry.add(epoch: 1, batch: .init(firstSequence: 2, lastSequence: 4, firstOffset: 12, lastOffset: 14, timestamp: 6))
        let bytes = ProducerStateSnapshot.encode(ProducerStateManager(producers: [3: entry]))
        bytes.withUnsafeBytes { raw in
            #expect(raw.int16BE(at: 0) == 1)
            #expect(raw.uint32BE(at: 2) == CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[6...])))
            #expect(raw.int32BE(at: 6) == 2)
            let last = 10 + 46
            #expect(raw.int64BE(at: last) == 3 && raw.int16BE(at: last + 8) == 1)
            #expect(raw.int32BE(at: last + 10) == 4 && raw.int64BE(at: last + 14) == 14)
            #expect(raw.int32BE(at: last + 22) == 2 && raw.int64BE(at: last + 26) == 6)
            #expect(raw.int32BE(at: last + 34) == -1 && raw.int64BE(at: last + 38) == -1)
        }
    }

    @Test func cleanClose_writesASnapshotAtTheLogEndAndReopeningDedupes() throws {
        let directory = TemporaryDirectory()
        let log = try Self.populated(directory)
        let before = log.activeProducers
        let end = log.logEndOffset
        try log.close()
        #expect(try Self.snapshotNames(directory) == [LogSegment.fileName(end, suffix: ".snapshot")])
        let reopened = try PartitionLog(
            directory: directory.path, config: log.config, clock: ManualClock(Self.now).logClock, recoveryPoint: end)
        #expect(reopened.activeProducers == before)
        #expect(!reopened.writer.withLock { $0.producerStateChanged })
        for index in 1..<6 {
            #expect(try reopened.append(ProducerBatches.buffer(epoch: 1, sequence: Int32(index * 2))).isDuplicate)
        }
        #expect(reopened.logEndOffset == end)
    }

    @Test func crash_rebuildsTheStateFromBatchHeaders() throws {
        let directory = TemporaryDirectory()
        let log = try Self.populated(directory)
        let before = log.activeProducers
        try log.flush()
        #expect(try Self.snapshotNames(directory).isEmpty)
        // No close: as after SIGKILL.
        let reopened = try PartitionLog(
            directory: directory.path, config: log.config, clock: ManualClock(Self.now).logClock)
        #expect(reopened.activeProducers == before)
        #expect(try reopened.append(ProducerBatches.buffer(producerId: 9, sequence: 0, count: 3)).isDuplicate)
    }

    @Test func snapshotBeyondATruncatedLog_isDiscarded() throws {
        let directory = TemporaryDirectory()
        let log = try Self.populated(directory)
        let end = log.logEndOffset
        let lastSize = ProducerBatches.bytes(producerId: 9, sequence: 0, count: 3).count
        let segmentPath = try #require(log.segments.last?.logPath)
        try log.close()
        // The last batch is lost (e.g. it was never fsynced), but the snapshot at the old end survived.
        let size = try #require(FileManager.default.attributesOfItem(atPath: segmentPath)[.size] as? Int)
        let handle = try #require(FileHandle(forWritingAtPath: segmentPath))
        try handle.truncate(atOffset: UInt64(size - lastSize))
        try handle.close()
        let reopened = try PartitionLog(
            directory: directory.path, config: log.config, clock: ManualClock(Self.now).logClock)
        #expect(reopened.logEndOffset == end - 3)
        #expect(try Self.snapshotNames(directory).isEmpty)
        #expect(reopened.activeProducers.map(\.producerId) == [7])
        #expect(!(try reopened.append(ProducerBatches.buffer(producerId: 9, sequence: 0, count: 3)).isDuplicate))
    }

    @Test func roll_snapshotsSoOnlyTheActiveSegmentIsReplayed() throws {
        let directory = TemporaryDirectory()
        let log = try Self.populated(directory)
        try log.roll()
        let rolledAt = log.logEndOffset
        try log.append(ProducerBatches.buffer(producerId: 9, sequence: 3, count: 1, timestamp: Self.now))
        let before = log.activeProducers
        try log.flush()
        #expect(try Self.snapshotNames(directory) == [LogSegment.fileName(rolledAt, suffix: ".snapshot")])
        let reopened = try PartitionLog(
            directory: directory.path, config: log.config, clock: ManualClock(Self.now).logClock)
        #expect(reopened.activeProducers == before)
        #expect(reopened.writer.withLock { $0.producerStateChanged })
    }

    @Test func rollSnapshot_isFsyncedByTheNextFlushNotUnderTheLock() throws {
        let directory = TemporaryDirectory()
        let log = try Self.populated(directory)
        try log.roll()
        #expect(log.writer.withLock { $0.unsyncedSnapshots }.count == 1)
        try log.flush()
        #expect(log.writer.withLock { $0.unsyncedSnapshots }.isEmpty)
        try log.close()
        #expect(log.writer.withLock { $0.unsyncedSnapshots }.isEmpty)
    }

    @Test func corruptSnapshot_isDeletedAndTheLogReplayed() throws {
        let directory = TemporaryDirectory()
        let log = try Self.populated(directory)
        let before = log.activeProducers
        try log.close()
        let name = try #require(try Self.snapshotNames(directory).first)
        try Data([0, 1, 2, 3]).write(to: URL(fileURLWithPath: directory.file(name)))
        let reopened = try PartitionLog(
            directory: directory.path, config: log.config, clock: ManualClock(Self.now).logClock)
        #expect(reopened.activeProducers == before)
        #expect(try Self.snapshotNames(directory).isEmpty)
    }

    @Test func snapshots_keepOnlyTheTwoNewest() throws {
        let directory = TemporaryDirectory()
        let log = try Self.populated(directory)
        for round in 0..<4 {
            try log.append(ProducerBatches.buffer(producerId: 9, sequence: Int32(3 + round), count: 1, timestamp: Self.now))
            try log.roll()
        }
        #expect(try Self.snapshotNames(directory).count == 2)
    }

    @Test func maintenanceSnapshot_waitsUntilTheLogIsFlushed() throws {
        let directory = TemporaryDirectory()
        let log = try Self.populated(directory)
        try log.snapshotProducerStateIfFlushed()
        #expect(try Self.snapshotNames(directory).isEmpty)
        try log.flush()
        try log.snapshotProducerStateIfFlushed()
        #expect(try Self.snapshotNames(directory) == [LogSegment.fileName(log.logEndOffset, suffix: ".snapshot")])
    }

    @Test func expiredProducers_areDroppedWhenTheLogIsOpened() throws {
        let directory = TemporaryDirectory()
        var config = smallConfig(segmentBytes: 1 << 20)
        config.producerIdExpirationMs = 60_000
        let log = try Self.populated(directory, config: config)
        try log.close()
        let later = ManualClock(Self.now + 120_000)
        let reopened = try PartitionLog(directory: directory.path, config: config, clock: later.logClock)
        #expect(reopened.activeProducers.isEmpty)
    }
}
