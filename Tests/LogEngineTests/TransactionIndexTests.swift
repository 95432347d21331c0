import Foundation
import NIOCore
import Testing
@testable import LogEngine

/// Transactions in the log: the last stable offset, abort entries in `.txnindex`, and their recovery.
struct TransactionIndexTests {
    static func transactional(producerId: Int64, epoch: Int16 = 0, sequence: Int32, count: Int = 2) -> ByteBuffer {
        var builder = RecordBatchEncoder(baseTimestamp: 1_700_000_000_000)
        builder.producerId = producerId
        builder.producerEpoch = epoch
        builder.baseSequence = sequence
        builder.attributes = 0x10
        return ByteBuffer(bytes: builder.build(count: count) { Array("t\(producerId)-\(sequence)-\($0)".utf8) })
    }

    static func marker(producerId: Int64, epoch: Int16 = 0, commit: Bool) throws -> ByteBuffer {
        ByteBuffer(bytes: try ControlRecord(isCommit: commit, coordinatorEpoch: 3).batch(
            producerId: producerId, producerEpoch: epoch, timestamp: 1_700_000_000_000))
    }

    @Test func entry_encodesKafkasThirtyFourBytes() {
        let entry = AbortedTransaction(producerId: 5, firstOffset: 10, lastOffset: 20, lastStableOffset: 21)
        let bytes = TransactionIndex.encode(entry)
        #expect(bytes.count == 34)
        #expect(Array(bytes[0..<2]) == [0, 0])
        #expect(TransactionIndex.decode(bytes + [1, 2, 3]) == [entry])
        // An entry with impossible offsets ends the file (untrusted bytes).
        let broken = TransactionIndex.encode(AbortedTransaction(producerId: 1, firstOffset: 9, lastOffset: 2, lastStableOffset: 0))
        #expect(TransactionIndex.decode(bytes + broken + bytes) == [entry])
    }

    @Test func controlRecord_roundTrips() throws {
        let bytes = try ControlRecord(isCommit: false, coordinatorEpoch: 7).batch(producerId: 3, producerEpoch: 1, timestamp: 5)
        try bytes.withUnsafeBytes { raw in
            let header = try RecordBatchHeader(parsing: raw, at: 0)
            #expect(header.isControl && header.isTransactional && header.producerId == 3)
            #expect(ControlRecord.parse(header, in: raw, at: 0) == ControlRecord(isCommit: false, coordinatorEpoch: 7))
        }
    }

    @Test func lastStableOffset_stopsAtTheEarliestOpenTransaction() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(directory: directory.path)
        try log.append(Batches.buffer(count: 2))                                    // 0-1
        try log.append(Self.transactional(producerId: 1, sequence: 0))              // 2-3 open (1)
        #expect(log.lastStableOffset == 2 && log.highWatermark == 4)
        try log.append(Self.transactional(producerId: 2, sequence: 0))              // 4-5 open (2)
        try log.append(try Self.marker(producerId: 1, commit: true), origin: .broker)  // 6
        #expect(log.lastStableOffset == 4)
        try log.append(try Self.marker(producerId: 2, commit: false), origin: .broker) // 7
        #expect(log.lastStableOffset == 8 && log.logEndOffset == 8)
        #expect(log.abortedTransactions(from: 0, upTo: 8)
            == [AbortedTransaction(producerId: 2, firstOffset: 4, lastOffset: 7, lastStableOffset: 8)])
        #expect(log.abortedTransactions(from: 8, upTo: 9).isEmpty)
        let stored = try TransactionIndex.read(directory: directory.path, baseOffset: 0)
        #expect(stored == [AbortedTransaction(producerId: 2, firstOffset: 4, lastOffset: 7, lastStableOffset: 8)])
        // read_committed bound: nothing at or past the LSO is read.
        #expect(try log.read(from: 0, maxBytes: 1 << 20, upperBound: 2)?.nextOffset == 2)
    }

    @Test func cleaning_coversSegmentsWithTransactionalData_upToTheActiveSegment() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(directory: directory.path)
        try log.append(Batches.buffer(count: 2))                                        // 0-1
        try log.roll()
        try log.append(Self.transactional(producerId: 1, sequence: 0))                  // 2-3
        try log.append(try Self.marker(producerId: 1, commit: false), origin: .broker)  // 4
        try log.roll()
        try log.append(Batches.buffer(count: 2))                                        // 5-6
        try log.roll()
        try log.append(Batches.buffer(count: 1))                                        // 7, active
        let range = try log.cleanableRange(lastCleanOffset: nil, nowMs: 0)
        #expect(range.firstDirtyOffset == 0)
        #expect(range.firstUncleanableOffset == 7)
    }

    @Test func clientMarkers_areRefused_andOldEpochMarkersToo() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(directory: directory.path)
        expectLogError(.invalidRecord) { try log.append(try Self.marker(producerId: 1, commit: true)) }
        try log.append(Self.transactional(producerId: 1, epoch: 2, sequence: 0))
        expectLogError(.invalidProducerEpoch) {
            try log.append(try Self.marker(producerId: 1, epoch: 1, commit: true), origin: .broker)
        }
        // A fencing abort with a bumped epoch ends the transaction and fences the old epoch.
        try log.append(try Self.marker(producerId: 1, epoch: 3, commit: false), origin: .broker)
        #expect(log.lastStableOffset == log.logEndOffset)
        expectLogError(.invalidProducerEpoch) { try log.append(Self.transactional(producerId: 1, epoch: 2, sequence: 2)) }
    }

    @Test func reopening_keepsOpenTransactions_andRebuildsAMissingIndex() throws {
        let directory = TemporaryDirectory()
        do {
            let log = try PartitionLog(directory: directory.path)
            try log.append(Self.transactional(producerId: 1, sequence: 0))             // 0-1
            try log.append(try Self.marker(producerId: 1, commit: false), origin: .broker) // 2
            try log.append(Self.transactional(producerId: 2, sequence: 0))             // 3-4 open
            try log.close()
        }
        // A clean close leaves a snapshot carrying the open transaction.
        do {
            let log = try PartitionLog(directory: directory.path)
            #expect(log.lastStableOffset == 3)
            #expect(log.abortedTransactions(from: 0, upTo: 5).count == 1)
            try log.close()
        }
        // Without snapshots and without the index, recovery replays the log and rebuilds both.
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path)
        where name.hasSuffix(".snapshot") || name.hasSuffix(".txnindex") {
            try FileManager.default.removeItem(atPath: directory.file(name))
        }
        let log = try PartitionLog(directory: directory.path)
        #expect(log.lastStableOffset == 3)
        #expect(log.openTransactions == [2: 3])
        let expected = [AbortedTransaction(producerId: 1, firstOffset: 0, lastOffset: 2, lastStableOffset: 3)]
        #expect(log.abortedTransactions(from: 0, upTo: 5) == expected)
        #expect(try TransactionIndex.read(directory: directory.path, baseOffset: 0) == expected)
        try log.append(try Self.marker(producerId: 2, commit: true), origin: .broker)
        #expect(log.lastStableOffset == log.logEndOffset)
    }
}
