import Foundation
import NIOCore
import Testing
@testable import LogEngine

/// Values from disk or the network at their extremes: each used to trap or lose data; now an error, a skipped
/// file or a clamped value.
struct HostileInputTests {
    private func write(_ bytes: [UInt8], _ path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    private func readAll(_ log: PartitionLog) throws -> Int {
        var records = 0
        var offset = log.logStartOffset
        while let slice = try log.read(from: offset, maxBytes: 1 << 20) {
            records += Int(slice.nextOffset - offset)
            offset = slice.nextOffset
        }
        return records
    }

    @Test func reopen_afterLyingBatchWasRejected_keepsEveryAckedRecordOfAnotherProducer() throws {
        let directory = TemporaryDirectory()
        let config = smallConfig(segmentBytes: 2048)
        var log: PartitionLog? = try PartitionLog(directory: directory.path, config: config)
        var acked = 0
        for round in 0..<100 {
            let honest = RecordBatchEncoder(baseTimestamp: 1_700_000_000_000).build(count: 2) { Array("r\(round)-\($0)".utf8) }
            acked += try #require(log).append(ByteBuffer(bytes: honest)).recordCount
            if round == 10 || round == 50 {
                let lying = try ForgedBatch.lyingEmptyBatch()
                #expect(throws: LogEngineError.self) { try log?.append(ByteBuffer(bytes: lying + lying)) }
                #expect(throws: LogEngineError.self) { try log?.append(ByteBuffer(bytes: lying)) }
            }
        }
        #expect(acked == 200)
        try log?.flush()
        #expect(try #require(log).segments.count > 2)
        log = nil  // no close: as after kill -9
        let reopened = try PartitionLog(directory: directory.path, config: config)
        #expect(reopened.logEndOffset == 200)
        #expect(reopened.recoveryStats.bytesTruncated == 0)
        #expect(try readAll(reopened) == 200)
    }

    @Test func append_whenTimestampsAreExtreme_doesNotTrapOnRollOrRetention() throws {
        let directory = TemporaryDirectory()
        let clock = ManualClock()
        let config = smallConfig(retentionMs: 1000, segmentMs: 1000)
        let log = try PartitionLog(directory: directory.path, config: config, clock: clock.logClock)
        for timestamp in [Int64(1_000), .min, .max, .min + 1, 0, .max - 1] {
            var builder = RecordBatchEncoder(baseTimestamp: timestamp)
            builder.producerId = 9
            builder.producerEpoch = 0
            builder.baseSequence = Int32(log.logEndOffset)
            try log.append(ByteBuffer(bytes: builder.build([.init(value: [1])])))
        }
        clock.advance(by: 10_000)
        try log.deleteOldSegments()
        log.removeExpiredProducers()
        try log.close()
        let reopened = try PartitionLog(directory: directory.path, config: config, clock: clock.logClock)
        reopened.removeExpiredProducers()
        try reopened.deleteOldSegments()
    }

    @Test func removeExpired_whenLastTimestampIsInt64Min_expiresWithoutTrapping() {
        var state = ProducerStateManager(producers: [
            1: ProducerStateEntry(producerId: 1, producerEpoch: 0, lastTimestamp: .min),
            2: ProducerStateEntry(producerId: 2, producerEpoch: 0, lastTimestamp: .max),
        ])
        #expect(state.removeExpired(nowMs: 1_700_000_000_000, expirationMs: 1000) == 1)
        #expect(state.removeExpired(nowMs: .min, expirationMs: 1000) == 0)
    }

    @Test func sequenceArithmetic_isTotal() {
        for sequence in [Int32.min, -1, 0, 5, .max - 1, .max] {
            for step in [Int32.min, -1, 0, 1, .max] {
                _ = ProducerStateEntry.incrementSequence(sequence, by: step)
                _ = ProducerStateEntry.decrementSequence(sequence, by: step)
            }
        }
        #expect(ProducerStateEntry.incrementSequence(.max, by: 1) == 0)
        #expect(ProducerStateEntry.decrementSequence(0, by: 1) == .max)
        #expect(ProducerStateEntry.incrementSequence(10, by: 5) == 15)
    }

    @Test func producerSnapshot_whenLastSequenceIsInt32Min_loadsWithoutTrapping() throws {
        let entry = ProducerStateEntry(producerId: 4, producerEpoch: 1, batches: [
            .init(firstSequence: 0, lastSequence: .min, firstOffset: 0, lastOffset: 10, timestamp: .min),
        ], lastTimestamp: .min)
        var bytes = ProducerStateSnapshot.encode(ProducerStateManager(producers: [4: entry]))
        bytes.withUnsafeMutableBytes { $0.storeInt32BE(.max, at: 10 + 22) }  // offsetDelta
        bytes.withUnsafeMutableBytes { raw in
            let crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(raw)[6...]))
            raw.storeUInt32BE(crc, at: 2)
        }
        let state = try ProducerStateSnapshot.decode(bytes)
        #expect(state.producers[4]?.lastSequence == .min)
    }

    @Test func open_whenProducerSnapshotIsCorrupt_movesItAsideWithAWarning() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(directory: directory.path, config: smallConfig())
        var builder = RecordBatchEncoder(baseTimestamp: Int64(Date().timeIntervalSince1970 * 1000))
        builder.producerId = 3
        builder.producerEpoch = 0
        builder.baseSequence = 0
        try log.append(ByteBuffer(bytes: builder.build([.init(value: [1])])))
        try log.close()
        let snapshot = ProducerStateSnapshot.path(directory: directory.path, offset: 1)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: snapshot)))
        bytes[12] ^= 0xFF
        try write(bytes, snapshot)
        let reopened = try PartitionLog(directory: directory.path, config: smallConfig())
        #expect(reopened.recoveryStats.warnings.count == 1)
        #expect(FileManager.default.fileExists(atPath: snapshot + ".corrupt"))
        #expect(reopened.activeProducers.map(\.producerId) == [3])  // rebuilt from the log
    }

    @Test func open_whenSegmentFileNameIsOutOfRange_skipsItWithAWarning() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(directory: directory.path, config: smallConfig())
        try log.append(Batches.buffer())
        try log.close()
        for name in ["-0000000000000000001.log", "09223372036854775807.log", "09223372036854775000.log"] {
            try write(Batches.bytes(), directory.file(name))
        }
        let reopened = try PartitionLog(directory: directory.path, config: smallConfig())
        #expect(reopened.recoveryStats.warnings.count == 3)
        #expect(reopened.logEndOffset == 3)
        #expect(reopened.segments.count == 1)
    }

    @Test func offsetCheckpoint_whenEntryCountIsHuge_isCorruptNotATrap() throws {
        let directory = TemporaryDirectory()
        let file = OffsetCheckpointFile(directory: directory.path, name: "recovery-point-offset-checkpoint")
        for count in ["\(Int.max)", "\(Int.max - 1)", "-1", "3"] {
            try write(Array("0\n\(count)\norders 0 5\n".utf8), file.path)
            #expect(throws: LogEngineError.self) { try file.read() }
        }
    }

    @Test func logManager_whenCheckpointsAreCorrupt_stillOpensEveryPartition() throws {
        let directory = TemporaryDirectory()
        let manager = try LogManager(directory: directory.path, defaultConfig: smallConfig())
        try manager.createLog(for: TopicPartition("orders", 0)).append(Batches.buffer())
        try manager.checkpoint()
        for name in [LogManager.recoveryPointCheckpointName, LogManager.logStartCheckpointName] {
            try write(Array("0\n\(Int.max)\norders 0 \(Int64.max)\n".utf8), directory.file(name))
        }
        let reopened = try LogManager(directory: directory.path, defaultConfig: smallConfig())
        #expect(reopened.log(for: TopicPartition("orders", 0))?.logEndOffset == 3)
    }

    @Test func segmentModificationTime_whenExtreme_saturates() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("file")
        try write([1], path)
        var times = [timespec(tv_sec: Int(Int64.max / 999), tv_nsec: 0), timespec(tv_sec: Int(Int64.max / 999), tv_nsec: 0)]
        _ = utimensat(AT_FDCWD, path, &times, 0)  // file systems may clamp or refuse: only no trap is required
        #expect(FileSystem.fileInfo(path) != nil)
    }

    @Test func timestampLookup_whenStoredRecordCountIsNegative_doesNotTrap() throws {
        let section = ForgedBatch.section(ForgedBatch.honestRecords(2))
        for count in [Int32.min, -1, 0, .max] {
            let bytes = try ForgedBatch.batch(section: section, recordCount: count, lastOffsetDelta: 1)
            let found = try bytes.withUnsafeBytes { raw in
                try RecordBatchHeader(parsing: raw, at: 0).firstOffset(withTimestampAtLeast: 0, in: raw, at: 0)
            }
            #expect(found == 0)
        }
    }

    @Test func decodeRecords_whenStoredRecordsLie_isCorruptBatch() throws {
        let lying = try ForgedBatch.batch(section: ForgedBatch.section(ForgedBatch.honestRecords(2)), recordCount: 3)
        let error = try #require(throws: LogEngineError.self) {
            try lying.withUnsafeBytes { try RecordBatchHeader(parsing: $0, at: 0).decodeRecords(in: $0, at: 0) }
        }
        #expect(error.code == .corruptBatch)
    }
}
