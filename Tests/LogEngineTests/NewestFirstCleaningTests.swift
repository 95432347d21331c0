import Foundation
import NIOCore
import Testing
@testable import LogEngine

/// The cleaner's newest-first mapping walk: its map and per-offset verdicts, and rounds that clean exactly as the
/// forward walk does (on one thread and on two), grouping segments by the size of their cleaned copies.
struct NewestFirstCleaningTests {
    /// A deterministic pseudo-random sequence (a 64-bit linear congruential generator).
    struct Sequence {
        var state: UInt64

        mutating func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
    }

    /// Appends `batches` batches of 1 to 8 records: keys from 30, about 10 % tombstones, 5 % keyless records, a
    /// fifth of the batches gzip, some from an idempotent producer; then rolls.
    static func appendMixed(_ log: PartitionLog, batches: Int, sequence: inout Sequence, producerSequence: inout Int32)
        throws
    {
        for index in 0..<batches {
            var records: [(String?, String?)] = []
            for _ in 0..<(1 + sequence.next(8)) {
                let key: String? = sequence.next(20) == 0 ? nil : "k\(sequence.next(30))"
                let value: String? = sequence.next(10) == 0 && key != nil ? nil : "v\(index)-\(sequence.next(1000))"
                records.append((key, value))
            }
            let compression: CompressionCodec = sequence.next(5) == 0 ? .gzip : .none
            if sequence.next(4) == 0 {
                try log.append(LogCleanerTests.batch(
                    records, compression: compression, producer: (11, 0, producerSequence)))
                producerSequence &+= Int32(records.count)
            } else {
                try log.append(LogCleanerTests.batch(records, compression: compression))
            }
        }
        try log.roll()
    }

    /// Every batch of the log: its header fields and records, to compare two cleaned logs.
    static func batches(_ log: PartitionLog) throws -> [String] {
        var result: [String] = []
        var offset = log.logStartOffset
        while offset < log.logEndOffset, let slice = try log.read(from: offset, maxBytes: 1 << 20) {
            try slice.withUnsafeBytes { bytes in
                for batch in RecordBatchSequence(bytes, check: .checksum) {
                    let header = batch.header
                    let records = try header.decodeRecords(in: bytes, at: batch.position).map {
                        "\($0.offset):\($0.key.map { String(decoding: $0, as: UTF8.self) } ?? "-")="
                            + "\($0.value.map { String(decoding: $0, as: UTF8.self) } ?? "<tombstone>")"
                    }
                    result.append(
                        "\(header.baseOffset)-\(header.lastOffset) a\(header.attributes) p\(header.producerId)"
                            + " s\(header.baseSequence) t\(header.baseTimestamp)/\(header.maxTimestamp) \(records)")
                }
            }
            offset = slice.nextOffset
        }
        return result
    }

    @Test(arguments: [1, 2])
    func newestFirstRounds_cleanExactlyAsForwardRounds(walkingThreads: Int) throws {
        let clock = ManualClock()
        let config = LogCleanerTests.compactConfig(segmentBytes: 1024, deleteRetentionMs: 50_000)
        let newestDirectory = TemporaryDirectory()
        let forwardDirectory = TemporaryDirectory()
        let newestManager = try LogManager(
            directory: newestDirectory.path, defaultConfig: config, clock: clock.logClock)
        let forwardManager = try LogManager(
            directory: forwardDirectory.path, defaultConfig: config, clock: clock.logClock)
        let partition = TopicPartition("mixed", 0)
        let newestLog = try newestManager.createLog(for: partition)
        let forwardLog = try forwardManager.createLog(for: partition)
        let newest = LogCleaner(config: .init(groupWorkers: walkingThreads), clock: clock.logClock)
        let forward = LogCleaner(config: .init(groupWorkers: walkingThreads), clock: clock.logClock)
        forward.mapsNewestFirst = false
        var newestSequence = Sequence(state: 42)
        var forwardSequence = Sequence(state: 42)
        var newestProducer: Int32 = 0
        var forwardProducer: Int32 = 0
        var sawNewestFirst = false
        for step in 0..<6 {
            try Self.appendMixed(newestLog, batches: 60, sequence: &newestSequence, producerSequence: &newestProducer)
            try Self.appendMixed(
                forwardLog, batches: 60, sequence: &forwardSequence, producerSequence: &forwardProducer)
            #expect(try Self.batches(newestLog) == Self.batches(forwardLog))
            while let round = try newestManager.cleanFilthiestLog(with: newest) {
                sawNewestFirst = sawNewestFirst || round.stats.newestFirst
            }
            while let round = try forwardManager.cleanFilthiestLog(with: forward) { #expect(!round.stats.newestFirst) }
            let cleaned = try Self.batches(newestLog)
            #expect(cleaned == (try Self.batches(forwardLog)), "step \(step)")
            #expect(!cleaned.isEmpty)
            // Past the tombstones' horizon from the third step on.
            clock.advance(by: 30_000)
        }
        #expect(sawNewestFirst)
        let records = try LogCleanerTests.readAll(newestLog)
        #expect(zip(records, records.dropFirst()).allSatisfy { $0.offset < $1.offset })
        #expect(!records.contains { $0.key == nil })
    }

    /// A compacted log of 1 KiB segments holding 200 batches of updates to the same 8 keys, rolled.
    static func supersededLog(in directory: TemporaryDirectory) throws -> (LogManager, PartitionLog) {
        let manager = try LogManager(
            directory: directory.path, defaultConfig: LogCleanerTests.compactConfig(segmentBytes: 1024))
        let log = try manager.createLog(for: TopicPartition("superseded", 0))
        for round in 0..<200 {
            try log.append(LogCleanerTests.batch((0..<8).map { ("k\($0)", "v\(round)-\($0)") }))
        }
        try log.roll()
        return (manager, log)
    }

    @Test func roundWhoseDirtySegmentsAllGo_swapsThemInFewGroups() throws {
        // Every dirty batch but the last is superseded.
        let directory = TemporaryDirectory()
        let (manager, log) = try Self.supersededLog(in: directory)
        let segmentsBefore = log.segments.count - 1
        #expect(segmentsBefore >= 40)
        let round = try #require(try manager.cleanFilthiestLog(with: LogCleaner()))
        #expect(round.stats.newestFirst)
        #expect(round.stats.groups <= 3)
        #expect(LogCleanerTests.latest(try LogCleanerTests.readAll(log)) == Dictionary(
            uniqueKeysWithValues: (0..<8).map { ("k\($0)", "v199-\($0)" as String?) }))
        // The forward walk groups by the segments' own sizes: one group per full segment.
        let forwardDirectory = TemporaryDirectory()
        let (forwardManager, _) = try Self.supersededLog(in: forwardDirectory)
        let forward = LogCleaner()
        forward.mapsNewestFirst = false
        let forwardRound = try #require(try forwardManager.cleanFilthiestLog(with: forward))
        #expect(forwardRound.stats.groups >= segmentsBefore / 2)
    }

    @Test func offsetMap_newestFirstPuts_keepLaterBatches_andMoveWithinABatch() throws {
        let map = try OffsetMap(memoryBytes: 1 << 16, initialSlots: 4)
        let a = KeyHash(Array("a".utf8))
        let b = KeyHash(Array("b".utf8))
        // The newest batch (offsets 10...12) first: a at 10 then again at 12, b at 11.
        #expect(map.putNewestFirst(a, offset: 10, batchLastOffset: 12) == .inserted)
        #expect(map.putNewestFirst(b, offset: 11, batchLastOffset: 12) == .inserted)
        #expect(map.putNewestFirst(a, offset: 12, batchLastOffset: 12) == .replaced(10))
        // An older batch (offsets 0...5): its records are not the latest.
        #expect(map.putNewestFirst(a, offset: 3, batchLastOffset: 5) == .laterKept)
        #expect(map.get(a) == 12 && map.get(b) == 11)
        #expect(map.latestOffset == -1)  // the walk sets it
        let full = try OffsetMap(memoryBytes: 4 * OffsetMap.slotSize, loadFactor: 0.5)
        #expect(full.putNewestFirst(a, offset: 1, batchLastOffset: 1) == .inserted)
        #expect(full.putNewestFirst(b, offset: 0, batchLastOffset: 0) == .inserted)
        #expect(full.putNewestFirst(KeyHash(Array("c".utf8)), offset: 0, batchLastOffset: 0) == .full)
    }

    @Test func offsetMap_mergeReportsSupersededOffsets_evenIntoANearlyFullTable() throws {
        // Both tables at their memory bound; the merge fills the earlier one to 0.875 of its slots. It visits the
        // later map scattered, so new keys sorted by slot do not pile up at the end of one cluster.
        let slots = 200_000
        let earlier = try OffsetMap(memoryBytes: slots * OffsetMap.slotSize, loadFactor: 0.9, initialSlots: slots)
        let later = try OffsetMap(memoryBytes: slots * OffsetMap.slotSize, loadFactor: 0.9, initialSlots: slots)
        for key in 0..<150_000 { earlier.put(KeyHash(Array("e\(key)".utf8)), offset: Int64(key)) }
        for key in 0..<50_000 { later.put(KeyHash(Array("e\(key * 2)".utf8)), offset: 1_000_000 + Int64(key)) }
        for key in 0..<25_000 { later.put(KeyHash(Array("l\(key)".utf8)), offset: 2_000_000 + Int64(key)) }
        var superseded = Set<Int64>()
        #expect(earlier.merge(later) { superseded.insert($0) })
        #expect(earlier.size == 175_000)
        #expect(superseded == Set((0..<50_000).map { Int64($0 * 2) }))
        #expect(earlier.get(KeyHash(Array("e2".utf8))) == 1_000_001)
        #expect(earlier.get(KeyHash(Array("e1".utf8))) == 1)
        #expect(earlier.get(KeyHash(Array("l24999".utf8))) == 2_024_999)
        #expect(earlier.latestOffset == 2_024_999)
        // One key more than the bound: the merge says it did not fit.
        let tight = try OffsetMap(memoryBytes: 10 * OffsetMap.slotSize, loadFactor: 0.5)
        let extra = try OffsetMap(memoryBytes: 10 * OffsetMap.slotSize, loadFactor: 0.5)
        for key in 0..<5 { tight.put(KeyHash(Array("t\(key)".utf8)), offset: Int64(key)) }
        extra.put(KeyHash(Array("x".utf8)), offset: 9)
        #expect(!tight.merge(extra))
    }

    @Test func offsetFlags_countPresentLatestAndTombstonesAcrossWords() {
        var flags = CleanerOffsetFlags(start: 100, end: 400)
        var expected = (present: 0, latest: 0, tombstones: 0)
        for offset in stride(from: Int64(100), to: 400, by: 3) {
            let latest = offset % 2 == 0
            let tombstone = offset % 5 == 0
            flags.record(offset, latest: latest, tombstone: tombstone)
            if offset >= 130 && offset <= 330 {
                expected.present += 1
                if latest { expected.latest += 1 }
                if latest && tombstone { expected.tombstones += 1 }
            }
        }
        let counts = flags.counts(130, 330)
        #expect(counts == .init(
            present: expected.present, latest: expected.latest, latestTombstones: expected.tombstones))
        #expect(flags.isLatest(130) && !flags.isLatest(133) && !flags.isLatest(99) && !flags.isLatest(400))
        flags.clearLatest(130)
        #expect(!flags.isLatest(130))
        #expect(flags.counts(130, 130) == .init(present: 1, latest: 0, latestTombstones: 0))
        #expect(flags.counts(399, 399) == .init())
        #expect(CleanerOffsetFlags(start: 5, end: 5).counts(5, 4) == .init())
    }
}
