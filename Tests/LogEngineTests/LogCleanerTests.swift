import Foundation
import NIOCore
import Testing
@testable import LogEngine

/// The log cleaner: offset map, survival rules, partial rounds, tombstone horizons, producer batches, swaps and
/// their crash recovery, readers during a swap.
struct LogCleanerTests {
    static func compactConfig(segmentBytes: Int = 2048, deleteRetentionMs: Int64 = 1000) -> LogConfig {
        var config = smallConfig(segmentBytes: segmentBytes, indexIntervalBytes: 128)
        config.compact = true
        config.minCleanableDirtyRatio = 0
        config.deleteRetentionMs = deleteRetentionMs
        return config
    }

    /// One batch of (key, value) records.
    static func batch(
        _ records: [(String?, String?)], timestamp: Int64 = 1_700_000_000_000, compression: CompressionCodec = .none,
        producer: (id: Int64, epoch: Int16, sequence: Int32)? = nil
    ) -> ByteBuffer {
        var encoder = RecordBatchEncoder(baseTimestamp: timestamp, compression: compression)
        if let producer {
            encoder.producerId = producer.id
            encoder.producerEpoch = producer.epoch
            encoder.baseSequence = producer.sequence
        }
        let bytes = try! encoder.encode(records.enumerated().map { index, record in
            .init(key: record.0.map { Array($0.utf8) }, value: record.1.map { Array($0.utf8) },
                  timestampDelta: Int64(index))
        })
        return ByteBuffer(bytes: bytes)
    }

    /// Every record from the log start: offset, key, value.
    static func readAll(_ log: PartitionLog) throws -> [(offset: Int64, key: String?, value: String?)] {
        var result: [(Int64, String?, String?)] = []
        var offset = log.logStartOffset
        while offset < log.logEndOffset, let slice = try log.read(from: offset, maxBytes: 1 << 20) {
            try slice.withUnsafeBytes { bytes in
                for batch in RecordBatchSequence(bytes, check: .checksum) {
                    for record in try batch.header.decodeRecords(in: bytes, at: batch.position) {
                        result.append((record.offset, record.key.map { String(decoding: $0, as: UTF8.self) },
                                       record.value.map { String(decoding: $0, as: UTF8.self) }))
                    }
                }
            }
            offset = slice.nextOffset
        }
        return result
    }

    /// The latest value per key of `records` (nil for a tombstone).
    static func latest(_ records: [(offset: Int64, key: String?, value: String?)]) -> [String: String?] {
        var map: [String: String?] = [:]
        for record in records { if let key = record.key { map[key] = record.value } }
        return map
    }

    static func fill(_ log: PartitionLog, keys: Int, rounds: Int) throws {
        for round in 0..<rounds {
            for key in 0..<keys { try log.append(batch([("k\(key)", "v\(round)-\(key)")])) }
        }
        try log.roll()
    }

    static func cleanAll(_ manager: LogManager, cleaner: LogCleaner = LogCleaner()) throws -> Int {
        var rounds = 0
        while try manager.cleanFilthiestLog(with: cleaner) != nil, rounds < 100 { rounds += 1 }
        return rounds
    }

    @Test func offsetMap_storesLatestOffsetsAndRefusesNewKeysWhenFull() throws {
        let map = try OffsetMap(memoryBytes: 10 * OffsetMap.slotSize, loadFactor: 0.5)
        #expect(map.maxEntries == 5)
        for key in 0..<5 { #expect(map.put(KeyHash(Array("key\(key)".utf8)), offset: Int64(key))) }
        #expect(map.put(KeyHash(Array("key2".utf8)), offset: 42))  // an existing key is updated when full
        #expect(!map.put(KeyHash(Array("new".utf8)), offset: 43))
        #expect(map.get(KeyHash(Array("key2".utf8))) == 42)
        #expect(map.get(KeyHash(Array("key4".utf8))) == 4)
        #expect(map.get(KeyHash(Array("absent".utf8))) == -1)
        #expect(map.latestOffset == 42)
        // Forced collisions: every key hashes to the same first slot.
        let colliding = try OffsetMap(memoryBytes: 8 * OffsetMap.slotSize)
        for low in 0..<6 { colliding.put(KeyHash(high: 3, low: UInt64(low)), offset: Int64(low) * 10) }
        for low in 0..<6 { #expect(colliding.get(KeyHash(high: 3, low: UInt64(low))) == Int64(low) * 10) }
        #expect(colliding.collisions > 0)
        #expect(KeyHash(Array("a".utf8)) != KeyHash(Array("b".utf8)))
    }

    @Test func offsetMap_growsFromASmallTableUpToItsMemoryBound() throws {
        let map = try OffsetMap(memoryBytes: 1000 * OffsetMap.slotSize, loadFactor: 0.9, initialSlots: 4)
        #expect(map.slots == 4)
        #expect(map.maxEntries == 900)
        for key in 0..<900 { #expect(map.put(KeyHash(Array("key\(key)".utf8)), offset: Int64(key))) }
        #expect(map.slots == 1000)
        #expect(map.memoryBytes == 1000 * OffsetMap.slotSize)
        #expect(map.isFull)
        #expect(!map.put(KeyHash(Array("one more".utf8)), offset: 900))
        #expect(map.put(KeyHash(Array("key7".utf8)), offset: 901))
        for key in 0..<900 where key != 7 { #expect(map.get(KeyHash(Array("key\(key)".utf8))) == Int64(key)) }
        #expect(map.get(KeyHash(Array("key7".utf8))) == 901)
        // Few keys updated many times keep a small table.
        let few = try OffsetMap(memoryBytes: 1 << 24, initialSlots: 64)
        for offset in 0..<10_000 { few.put(KeyHash(Array("k\(offset % 50)".utf8)), offset: Int64(offset)) }
        #expect(few.slots == 128)  // doubled once, when half full
        #expect(few.size == 50)
        #expect(few.get(KeyHash(Array("k49".utf8))) == 9_999)
        // A map of later offsets merged in wins for the keys both hold.
        let earlier = try OffsetMap(memoryBytes: 1 << 16, initialSlots: 4)
        let later = try OffsetMap(memoryBytes: 1 << 16, initialSlots: 4)
        for key in 0..<100 { earlier.put(KeyHash(Array("m\(key)".utf8)), offset: Int64(key)) }
        for key in 50..<150 { later.put(KeyHash(Array("m\(key)".utf8)), offset: Int64(key) + 1000) }
        later.updateLatestOffset(2000)
        #expect(earlier.merge(later))
        #expect(earlier.size == 150)
        #expect(earlier.get(KeyHash(Array("m10".utf8))) == 10)
        #expect(earlier.get(KeyHash(Array("m60".utf8))) == 1060)
        #expect(earlier.get(KeyHash(Array("m149".utf8))) == 1149)
        #expect(earlier.latestOffset == 2000)
    }

    @Test func cleaning_keepsTheLatestValueOfEveryKey_andSurvivesReopen() throws {
        let directory = TemporaryDirectory()
        let partition = TopicPartition("compacted", 0)
        var expected: [String: String?] = [:]
        do {
            let manager = try LogManager(directory: directory.path, defaultConfig: Self.compactConfig())
            let log = try manager.createLog(for: partition)
            try Self.fill(log, keys: 5, rounds: 40)
            try log.append(Self.batch([("k0", "final")]))
            let before = try Self.readAll(log)
            expected = Self.latest(before)
            let sizeBefore = log.sizeInBytes
            #expect(try Self.cleanAll(manager) >= 1)
            let after = try Self.readAll(log)
            #expect(Self.latest(after) == expected)
            #expect(log.sizeInBytes < sizeBefore / 4)
            #expect(zip(after, after.dropFirst()).allSatisfy { $0.offset < $1.offset })
            // Only the latest per key survive in the cleaned part (the active segment holds the uncleaned rest).
            #expect(after.count <= 5 + 2)
            try manager.close()
            let checkpoint = try OffsetCheckpointFile(directory: directory.path, name: "cleaner-offset-checkpoint").read()
            #expect(checkpoint[partition] == log.segments.last?.baseOffset)
        }
        let reopened = try LogManager(directory: directory.path, defaultConfig: Self.compactConfig())
        let log = try #require(reopened.log(for: partition))
        #expect(Self.latest(try Self.readAll(log)) == expected)
        #expect(try reopened.cleanFilthiestLog(with: LogCleaner()) == nil)
    }

    @Test func fullOffsetMap_cleansUpToWhatItMapped_andTheNextRoundGoesOn() throws {
        let directory = TemporaryDirectory()
        let manager = try LogManager(directory: directory.path, defaultConfig: Self.compactConfig())
        let log = try manager.createLog(for: TopicPartition("partial", 0))
        try Self.fill(log, keys: 40, rounds: 3)
        let expected = Self.latest(try Self.readAll(log))
        let cleaner = LogCleaner(config: .init(dedupeBufferBytes: 20 * OffsetMap.slotSize))
        let first = try #require(try manager.cleanFilthiestLog(with: cleaner))
        #expect(first.stats.mapFull)
        #expect(first.endOffset < log.segments.last!.baseOffset)
        #expect(Self.latest(try Self.readAll(log)) == expected)
        var rounds = 1
        while try manager.cleanFilthiestLog(with: cleaner) != nil, rounds < 50 { rounds += 1 }
        #expect(rounds > 2)
        let after = try Self.readAll(log)
        #expect(Self.latest(after) == expected)
        #expect(after.count <= 40 + 1)
    }

    @Test func tombstones_stayUntilDeleteRetentionPastTheirHorizon_thenGo() throws {
        let clock = ManualClock()
        let directory = TemporaryDirectory()
        let manager = try LogManager(
            directory: directory.path, defaultConfig: Self.compactConfig(deleteRetentionMs: 60_000),
            clock: clock.logClock)
        let log = try manager.createLog(for: TopicPartition("tombstones", 0))
        try Self.fill(log, keys: 3, rounds: 5)
        try log.append(Self.batch([("k1", nil)]))
        try log.append(Self.batch([("k2", "x")]))
        try log.roll()
        let cleaner = LogCleaner(clock: clock.logClock)
        _ = try Self.cleanAll(manager, cleaner: cleaner)
        var records = try Self.readAll(log)
        #expect(records.contains { $0.key == "k1" && $0.value == nil })
        // The tombstone's batch now carries its delete horizon (attribute bit 6, base timestamp).
        let slice = try #require(try log.read(from: 0, maxBytes: 1 << 20))
        let horizons = try slice.withUnsafeBytes { bytes in
            RecordBatchSequence(bytes).compactMap { $0.header.deleteHorizonMs }
        }
        #expect(horizons == [clock.read() + 60_000])
        // Before the horizon: still there after another round.
        try log.append(Self.batch([("k0", "later")]))
        try log.roll()
        _ = try Self.cleanAll(manager, cleaner: cleaner)
        #expect(try Self.readAll(log).contains { $0.key == "k1" })
        clock.advance(by: 61_000)
        try log.append(Self.batch([("k0", "latest")]))
        try log.roll()
        _ = try Self.cleanAll(manager, cleaner: cleaner)
        records = try Self.readAll(log)
        #expect(!records.contains { $0.key == "k1" })
        #expect(Self.latest(records) == ["k0": "latest", "k2": "x"])
    }

    @Test func keylessRecordsAreDropped_andCompressedBatchesKeepTheirCodec() throws {
        let directory = TemporaryDirectory()
        let manager = try LogManager(directory: directory.path, defaultConfig: Self.compactConfig())
        let log = try manager.createLog(for: TopicPartition("mixed", 0))
        try log.append(Self.batch([(nil, "keyless"), ("a", "1"), ("b", "1"), ("c", "1")], compression: .gzip))
        try log.append(Self.batch([("b", "2")]))
        try log.append(Self.batch([(nil, "keyless-last")]))
        try log.roll()
        let round = try #require(try manager.cleanFilthiestLog(with: LogCleaner()))
        #expect(round.stats.keylessRemoved == 2)
        let records = try Self.readAll(log)
        #expect(records.map(\.offset) == [1, 3, 4])
        #expect(Self.latest(records) == ["a": "1", "b": "2", "c": "1"])
        let slice = try #require(try log.read(from: 0, maxBytes: 1 << 20))
        let first = try slice.withUnsafeBytes { bytes in try RecordBatchHeader(parsing: bytes, at: 0) }
        #expect(first.compressionCodec == CompressionCodec.gzip.rawValue)
        #expect(first.recordCount == 2)
        #expect(first.baseOffset == 0 && first.lastOffset == 3)
        try slice.withUnsafeBytes { bytes in try first.validateStored(in: bytes, at: 0) }
        // The last batch of the round stays as an empty batch (it keeps the round's last offset known).
        let last = try slice.withUnsafeBytes { bytes in RecordBatchSequence(bytes).map(\.header).last }
        #expect(last?.recordCount == 0 && last?.lastOffset == 5)
    }

    @Test func activeProducersKeepTheirLastBatch_soTheirSequenceGoesOn() throws {
        let directory = TemporaryDirectory()
        let partition = TopicPartition("producer", 0)
        do {
            let manager = try LogManager(directory: directory.path, defaultConfig: Self.compactConfig())
            let log = try manager.createLog(for: partition)
            try log.append(Self.batch([("k", "p0")], producer: (7, 0, 0)))
            try log.append(Self.batch([("k", "p1"), ("k", "p2")], producer: (7, 0, 1)))
            try log.append(Self.batch([("k", "plain")]))
            try log.append(Self.batch([("other", "x")]))
            try log.roll()
            _ = try Self.cleanAll(manager)
            let slice = try #require(try log.read(from: 0, maxBytes: 1 << 20))
            let headers = try slice.withUnsafeBytes { bytes in RecordBatchSequence(bytes).map(\.header) }
            let producerBatch = try #require(headers.first { $0.producerId == 7 })
            #expect(producerBatch.recordCount == 0 && producerBatch.baseOffset == 1 && producerBatch.lastOffset == 2)
            #expect(producerBatch.baseSequence == 1)
            #expect(Self.latest(try Self.readAll(log)) == ["k": "plain", "other": "x"])
            try log.append(Self.batch([("k", "p3")], producer: (7, 0, 3)))
            try manager.close()
        }
        let reopened = try LogManager(directory: directory.path, defaultConfig: Self.compactConfig())
        let log = try #require(reopened.log(for: partition))
        try log.append(Self.batch([("k", "p4")], producer: (7, 0, 4)))
        #expect(throws: LogEngineError.self) { try log.append(Self.batch([("k", "bad")], producer: (7, 0, 9))) }
    }

    struct SimulatedCrash: Error {}

    /// A crash after each swap step, and with a `.cleaned` leftover: reopening finishes or discards the swap; no
    /// surviving record is lost and no offset appears twice.
    @Test(arguments: [0, 1, 2])
    func crashDuringSwap_isRecoveredAtOpen(step: Int) throws {
        let directory = TemporaryDirectory()
        let path = directory.file("crash-0")
        let config = Self.compactConfig()
        let log = try PartitionLog(directory: path, config: config)
        try Self.fill(log, keys: 4, rounds: 30)
        let expected = Self.latest(try Self.readAll(log))
        let original = try Self.readAll(log)
        let cleaner = LogCleaner()
        if step == 0 {
            // A .cleaned segment (never swapped) next to the originals.
            let first = LogSegment.fileName(0, suffix: "")
            try FileManager.default.copyItem(atPath: path + "/" + first + ".log", toPath: path + "/" + first + ".log.cleaned")
        } else {
            cleaner.swapHook = { reached in if reached.rawValue == step { throw SimulatedCrash() } }
            let range = try log.cleanableRange(lastCleanOffset: nil, nowMs: 0)
            #expect(throws: SimulatedCrash.self) {
                try cleaner.clean(log, firstDirtyOffset: range.firstDirtyOffset,
                                  firstUncleanableOffset: range.firstUncleanableOffset)
            }
            let names = try FileManager.default.contentsOfDirectory(atPath: path)
            #expect(names.contains { $0.hasSuffix(".log.swap") })
        }
        // The crashed process's objects are abandoned; a new one opens the directory.
        let reopened = try PartitionLog(directory: path, config: config)
        let names = try FileManager.default.contentsOfDirectory(atPath: path)
        #expect(!names.contains { $0.hasSuffix(".swap") || $0.hasSuffix(".cleaned") || $0.hasSuffix(".deleted") })
        let records = try Self.readAll(reopened)
        #expect(Self.latest(records) == expected)
        #expect(Set(records.map(\.offset)).count == records.count)
        #expect(zip(records, records.dropFirst()).allSatisfy { $0.offset < $1.offset })
        if step == 0 { #expect(records.count == original.count) } else { #expect(records.count < original.count) }
        // Every surviving record is the original one at its offset.
        let byOffset = Dictionary(uniqueKeysWithValues: original.map { ($0.offset, $0) })
        for record in records { #expect(byOffset[record.offset]?.value == record.value) }
    }

    @Test func readersOfReplacedSegmentsFinishFromTheOldFiles_andFetchesSkipRemovedOffsets() throws {
        let directory = TemporaryDirectory()
        let manager = try LogManager(directory: directory.path, defaultConfig: Self.compactConfig())
        let log = try manager.createLog(for: TopicPartition("readers", 0))
        try Self.fill(log, keys: 3, rounds: 20)
        let held = try #require(try log.read(from: 0, maxBytes: 1 << 20))
        let heldBytes = try held.copyBytes()
        _ = try Self.cleanAll(manager)
        #expect(try held.copyBytes() == heldBytes)
        // Offset 0 was removed: a fetch from it starts at the next surviving batch.
        let slice = try #require(try log.read(from: 0, maxBytes: 1 << 20))
        #expect(slice.firstOffset > 0)
        #expect(log.logStartOffset == 0)
    }

    @Test func minCompactionLag_holdsBackRecentSegments_andMaxCompactionLag_forcesCleaning() throws {
        let clock = ManualClock()
        let directory = TemporaryDirectory()
        var config = Self.compactConfig()
        config.minCompactionLagMs = 60_000
        let manager = try LogManager(directory: directory.path, defaultConfig: config, clock: clock.logClock)
        let log = try manager.createLog(for: TopicPartition("lagged", 0))
        for round in 0..<30 {
            try log.append(Self.batch([("k", "v\(round)")], timestamp: clock.read()))
        }
        try log.roll()
        #expect(try log.cleanableRange(lastCleanOffset: nil, nowMs: clock.read()).firstUncleanableOffset == 0)
        #expect(try manager.cleanFilthiestLog(with: LogCleaner(clock: clock.logClock)) == nil)
        clock.advance(by: 61_000)
        #expect(try manager.cleanFilthiestLog(with: LogCleaner(clock: clock.logClock)) != nil)

        // A dirty ratio below min.cleanable.dirty.ratio is cleaned once max.compaction.lag.ms has passed.
        var strict = Self.compactConfig()
        strict.minCleanableDirtyRatio = 0.99
        strict.maxCompactionLagMs = 5_000
        let other = try manager.createLog(for: TopicPartition("forced", 0), config: strict)
        try Self.fill(other, keys: 3, rounds: 20)
        _ = try Self.cleanAll(manager, cleaner: LogCleaner(clock: clock.logClock))
        try other.append(Self.batch([("k0", "new")], timestamp: clock.read()))
        try other.roll()
        let partition = TopicPartition("forced", 0)
        let state = try #require(manager.compactedLogs(nowMs: clock.read()).first { $0.partition == partition })
        #expect(state.dirtyRatio < 0.99 && !state.needsCompactionNow)
        #expect(try manager.cleanFilthiestLog(with: LogCleaner(clock: clock.logClock)) == nil)
        clock.advance(by: 6_000)
        let round = try #require(try manager.cleanFilthiestLog(with: LogCleaner(clock: clock.logClock)))
        #expect(round.partition == partition)
        #expect(Self.latest(try Self.readAll(other))["k0"] == "new")
    }
}
