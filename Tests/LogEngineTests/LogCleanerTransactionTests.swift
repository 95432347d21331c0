import Foundation
import NIOCore
import Testing
@testable import LogEngine

/// Transactions through the cleaner: aborted batches removed (and never hiding a committed value in the offset
/// map), markers kept while they guard batches, then given a delete horizon and removed after it, the
/// transaction index of cleaned segments, and its recovery after an interrupted swap.
struct LogCleanerTransactionTests {
    static let start: Int64 = 1_700_000_000_000

    /// One transactional batch of keyed records.
    static func transactional(
        _ records: [(String, String?)], producerId: Int64, sequence: Int32, timestamp: Int64 = start
    ) -> ByteBuffer {
        var encoder = RecordBatchEncoder(baseTimestamp: timestamp)
        encoder.producerId = producerId
        encoder.producerEpoch = 0
        encoder.baseSequence = sequence
        encoder.attributes = 0x10
        let bytes = try! encoder.encode(records.map { .init(key: Array($0.0.utf8), value: $0.1.map { Array($0.utf8) }) })
        return ByteBuffer(bytes: bytes)
    }

    static func marker(_ producerId: Int64, commit: Bool, timestamp: Int64 = start) throws -> ByteBuffer {
        ByteBuffer(bytes: try ControlRecord(isCommit: commit, coordinatorEpoch: 1).batch(
            producerId: producerId, producerEpoch: 0, timestamp: timestamp))
    }

    /// Data records (key → value, in offset order) and markers (offset, commit, delete horizon) of the log.
    static func contents(_ log: PartitionLog) throws
        -> (data: [(offset: Int64, key: String, value: String?)], markers: [(offset: Int64, commit: Bool, horizon: Int64?)])
    {
        var data: [(Int64, String, String?)] = []
        var markers: [(Int64, Bool, Int64?)] = []
        var offset = log.logStartOffset
        while offset < log.logEndOffset, let slice = try log.read(from: offset, maxBytes: 1 << 20) {
            try slice.withUnsafeBytes { bytes in
                for batch in RecordBatchSequence(bytes, check: .checksum) {
                    if batch.header.isControl {
                        if let marker = ControlRecord.parse(batch.header, in: bytes, at: batch.position) {
                            markers.append((batch.header.baseOffset, marker.isCommit, batch.header.deleteHorizonMs))
                        }
                        continue
                    }
                    for record in try batch.header.decodeRecords(in: bytes, at: batch.position) {
                        data.append((record.offset, String(decoding: record.key ?? [], as: UTF8.self),
                                     record.value.map { String(decoding: $0, as: UTF8.self) }))
                    }
                }
            }
            offset = slice.nextOffset
        }
        return (data, markers)
    }

    /// The committed view of a read_committed consumer: data minus the batches of aborted transactions.
    static func committed(_ log: PartitionLog) throws -> [String: String?] {
        let aborted = log.abortedTransactions(from: 0, upTo: log.logEndOffset)
        var view: [String: String?] = [:]
        var offset = log.logStartOffset
        while offset < log.logEndOffset, let slice = try log.read(from: offset, maxBytes: 1 << 20) {
            try slice.withUnsafeBytes { bytes in
                for batch in RecordBatchSequence(bytes, check: .checksum) where !batch.header.isControl {
                    let header = batch.header
                    let isAborted = header.isTransactional && aborted.contains {
                        $0.producerId == header.producerId && $0.firstOffset <= header.baseOffset
                            && header.lastOffset < $0.lastOffset
                    }
                    if isAborted { continue }
                    for record in try header.decodeRecords(in: bytes, at: batch.position) {
                        view[String(decoding: record.key ?? [], as: UTF8.self)] = record.value.map {
                            String(decoding: $0, as: UTF8.self)
                        }
                    }
                }
            }
            offset = slice.nextOffset
        }
        return view
    }

    /// Producer 1 commits k1, k2 then k2 again; producer 2 aborts k1 and k3 in between.
    static func writeTransactions(_ log: PartitionLog) throws {
        try log.append(transactional([("k1", "c1"), ("k2", "c1")], producerId: 1, sequence: 0))  // 0-1
        try log.append(try marker(1, commit: true), origin: .broker)                              // 2
        try log.roll()
        try log.append(transactional([("k1", "a1"), ("k3", "a1")], producerId: 2, sequence: 0))  // 3-4
        try log.append(try marker(2, commit: false), origin: .broker)                             // 5
        try log.append(transactional([("k2", "c2")], producerId: 1, sequence: 2))                 // 6
        try log.append(try marker(1, commit: true), origin: .broker)                              // 7
        try log.roll()
        // Producer 2 goes on (its last data batch moves past the aborted one), outside any transaction.
        try log.append(transactional([("k4", "c4")], producerId: 2, sequence: 2))                 // 8
        try log.append(try marker(2, commit: true), origin: .broker)                              // 9
        try log.roll()
        try log.append(LogCleanerTests.batch([("k5", "plain")]))                                 // 10, active
    }

    static func cleanRound(_ log: PartitionLog, _ cleaner: LogCleaner, clock: ManualClock) throws {
        let range = try log.cleanableRange(lastCleanOffset: nil, nowMs: clock.read())
        _ = try cleaner.clean(
            log, firstDirtyOffset: range.firstDirtyOffset, firstUncleanableOffset: range.firstUncleanableOffset)
    }

    @Test func abortedBatchesGo_markersStayUntilTheirHorizon_andTheIndexFollows() throws {
        let clock = ManualClock()
        let directory = TemporaryDirectory()
        let config = LogCleanerTests.compactConfig(segmentBytes: 64 * 1024, deleteRetentionMs: 60_000)
        let log = try PartitionLog(directory: directory.path, config: config, clock: clock.logClock)
        try Self.writeTransactions(log)
        let committedBefore = try Self.committed(log)
        #expect(committedBefore == ["k1": "c1", "k2": "c2", "k4": "c4", "k5": "plain"])
        // Transactional segments are cleanable now: up to the active segment.
        #expect(try log.cleanableRange(lastCleanOffset: nil, nowMs: clock.read()).firstUncleanableOffset == 10)
        let cleaner = LogCleaner(clock: clock.logClock)
        try Self.cleanRound(log, cleaner, clock: clock)

        var (data, markers) = try Self.contents(log)
        // The aborted k1 (offset 3, later than the committed one) neither survives nor hid k1=c1.
        #expect(data.map(\.key) == ["k1", "k2", "k4", "k5"])
        #expect(data.map(\.value) == ["c1", "c2", "c4", "plain"])
        #expect(zip(data, data.dropFirst()).allSatisfy { $0.offset < $1.offset })
        #expect(try Self.committed(log) == committedBefore)
        // The abort marker guarded batches seen in this round: kept, with its index entry, no horizon yet.
        #expect(markers.map(\.offset) == [2, 5, 7, 9])
        #expect(markers.allSatisfy { $0.horizon == nil })
        let entry = AbortedTransaction(producerId: 2, firstOffset: 3, lastOffset: 5, lastStableOffset: 6)
        #expect(log.abortedTransactions(from: 0, upTo: 11) == [entry])
        #expect(log.segments.count == 2)
        #expect(try TransactionIndex.read(directory: directory.path, baseOffset: 0) == [entry])

        // Next round: the aborted batch is gone, so its marker guards nothing: it gets a delete horizon. The
        // first commit marker's batch still holds k1, so it stays without one; the second's batch holds k2.
        try Self.cleanRound(log, cleaner, clock: clock)
        (data, markers) = try Self.contents(log)
        let horizon = clock.read() + 60_000
        #expect(markers.map(\.offset) == [2, 5, 7, 9])
        #expect(markers.first { $0.offset == 5 }?.horizon == horizon)
        #expect(markers.filter { $0.offset != 5 }.allSatisfy { $0.horizon == nil })
        #expect(log.abortedTransactions(from: 0, upTo: 11).isEmpty)
        #expect(try TransactionIndex.read(directory: directory.path, baseOffset: 0).isEmpty)
        #expect(try Self.committed(log) == committedBefore)

        // Before the horizon the marker stays; after it, it is removed.
        clock.advance(by: 30_000)
        try Self.cleanRound(log, cleaner, clock: clock)
        #expect(try Self.contents(log).markers.map(\.offset) == [2, 5, 7, 9])
        clock.advance(by: 31_000)
        try Self.cleanRound(log, cleaner, clock: clock)
        (data, markers) = try Self.contents(log)
        #expect(markers.map(\.offset) == [2, 7, 9])
        #expect(try Self.committed(log) == committedBefore)
        try log.close()

        let reopened = try PartitionLog(directory: directory.path, config: config, clock: clock.logClock)
        #expect(try Self.committed(reopened) == committedBefore)
        #expect(reopened.abortedTransactions(from: 0, upTo: 11).isEmpty)
        try reopened.close()
    }

    @Test func commitMarker_goesOnceItsBatchesAreCompactedAway() throws {
        let clock = ManualClock()
        let directory = TemporaryDirectory()
        let config = LogCleanerTests.compactConfig(segmentBytes: 64 * 1024, deleteRetentionMs: 1000)
        let log = try PartitionLog(directory: directory.path, config: config, clock: clock.logClock)
        try log.append(Self.transactional([("k", "old")], producerId: 1, sequence: 0))  // 0
        try log.append(try Self.marker(1, commit: true), origin: .broker)             // 1
        try log.append(Self.transactional([("k", "new")], producerId: 1, sequence: 1))  // 2
        try log.append(try Self.marker(1, commit: true), origin: .broker)             // 3
        try log.roll()
        try log.append(LogCleanerTests.batch([("other", "x")]))                       // 4, active
        let cleaner = LogCleaner(clock: clock.logClock)
        try Self.cleanRound(log, cleaner, clock: clock)   // batch 0 emptied and dropped
        try Self.cleanRound(log, cleaner, clock: clock)   // marker 1 guards nothing: horizon set
        clock.advance(by: 2000)
        try Self.cleanRound(log, cleaner, clock: clock)   // past the horizon: gone
        let (data, markers) = try Self.contents(log)
        #expect(data.map(\.value) == ["new", "x"])
        #expect(markers.map(\.offset) == [3])
    }

    @Test func interruptedSwap_keepsTheCleanedTransactionIndex() throws {
        struct Crash: Error {}
        let clock = ManualClock()
        let directory = TemporaryDirectory()
        let config = LogCleanerTests.compactConfig(segmentBytes: 64 * 1024, deleteRetentionMs: 60_000)
        let log = try PartitionLog(directory: directory.path, config: config, clock: clock.logClock)
        try Self.writeTransactions(log)
        let committedBefore = try Self.committed(log)
        let cleaner = LogCleaner(clock: clock.logClock)
        cleaner.swapHook = { step in if step == .deletedOld { throw Crash() } }
        #expect(throws: Crash.self) { try Self.cleanRound(log, cleaner, clock: clock) }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(names.contains(LogSegment.fileName(0, suffix: ".txnindex.swap")))
        #expect(names.contains(LogSegment.fileName(0, suffix: ".log.swap")))
        try? log.close()

        let reopened = try PartitionLog(directory: directory.path, config: config, clock: clock.logClock)
        let after = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(!after.contains { $0.hasSuffix(".swap") || $0.hasSuffix(".cleaned") })
        // The cleaned segment's index entry (recovery may rebuild it from the marker it guards).
        let stored = try TransactionIndex.read(directory: directory.path, baseOffset: 0)
        #expect(stored.map(\.producerId) == [2] && stored.map(\.lastOffset) == [5])
        #expect(reopened.abortedTransactions(from: 0, upTo: 11).map(\.lastOffset) == [5])
        #expect(try Self.committed(reopened) == committedBefore)
        #expect(try Self.contents(reopened).data.map(\.key) == ["k1", "k2", "k4", "k5"])
        try reopened.close()
    }
}
