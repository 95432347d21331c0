import Foundation
import NIOCore
import Testing
@testable import LogEngine

struct ConcurrencyTests {
    /// One writer appends and rolls, retention deletes old segments, and readers read concurrently: every slice a
    /// reader gets holds whole valid batches starting at or before the requested offset.
    @Test func readersDuringAppendsRollsAndRetention_seeOnlyValidBatches() async throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(
            directory: directory.path, config: smallConfig(segmentBytes: 2048, indexIntervalBytes: 128, retentionBytes: 8192))
        let appends = 600
        try await withThrowingTaskGroup(of: Int.self) { group in
            group.addTask {
                for seed in 0..<appends {
                    try log.append(Batches.buffer(count: 1 + seed % 3, seed: seed, valueSize: 40))
                    if seed % 50 == 0 { try log.deleteOldSegments() }
                }
                return 0
            }
            for reader in 0..<3 {
                group.addTask {
                    var reads = 0
                    var generator = SystemRandomNumberGenerator()
                    while log.logEndOffset < Int64(appends) || reads < 100 {
                        let start = log.logStartOffset
                        let end = log.highWatermark
                        guard end > start else { continue }
                        let offset = Int64.random(in: start..<end, using: &generator)
                        let slice: FileSlice?
                        do {
                            slice = try log.read(from: offset, maxBytes: 512 + reader * 100)
                        } catch let error as LogEngineError where error.code == .offsetOutOfRange {
                            continue  // retention moved the start meanwhile
                        }
                        guard let slice else { continue }
                        let headers = try Batches.headers(try slice.copyBytes())
                        #expect(headers.first?.baseOffset ?? Int64.max <= offset)
                        #expect(headers.last?.lastOffset ?? -1 >= offset)
                        reads += 1
                    }
                    return reads
                }
            }
            var total = 0
            for try await reads in group { total += reads }
            #expect(total >= 300)
        }
        try log.deleteOldSegments()
        #expect(log.sizeInBytes < 8192 + 2048 * 2)
    }

    /// The log end offset, high watermark and last stable offset are three published values; on a single replica
    /// without transactions every append moves all three to the new end.
    @Test func offsets_afterAppends_arePublishedAndEqual() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(directory: directory.path, config: smallConfig(segmentBytes: 2048))
        #expect(log.logEndOffset == 0 && log.highWatermark == 0 && log.lastStableOffset == 0)
        var expected: Int64 = 0
        for seed in 0..<40 {
            let count = 1 + seed % 4
            let info = try log.append(Batches.buffer(count: count, seed: seed, valueSize: 30))
            expected += Int64(count)
            #expect(info.lastOffset == expected - 1)
            #expect(log.logEndOffset == expected)
            #expect(log.highWatermark == expected)
            #expect(log.lastStableOffset == expected)
        }
        #expect(log.segments.count > 1)
        // Lowering the high watermark takes the last stable offset with it; the next append publishes all three.
        log.updateHighWatermark(5)
        #expect(log.highWatermark == 5 && log.lastStableOffset == 5 && log.logEndOffset == expected)
        #expect(try log.read(from: 5, maxBytes: 1 << 20) == nil)
        try log.append(Batches.buffer(count: 2))
        #expect(log.logEndOffset == expected + 2)
        #expect(log.highWatermark == expected + 2 && log.lastStableOffset == expected + 2)
        try log.close()
        let reopened = try PartitionLog(directory: directory.path, config: smallConfig(segmentBytes: 2048))
        #expect(reopened.logEndOffset == expected + 2)
        #expect(reopened.highWatermark == expected + 2 && reopened.lastStableOffset == expected + 2)
    }

    /// Several writers (one waiting for durability through group commit) append while readers watch: the offsets
    /// any reader loads satisfy LSO <= HW <= LEO, reads never pass the high watermark, and in the end the appends'
    /// offsets tile the log exactly once with every batch readable.
    @Test func concurrentAppendsAndReads_stayConsistent() async throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(
            directory: directory.path, config: smallConfig(segmentBytes: 4096, indexIntervalBytes: 256))
        let writers = 4
        let appendsPerWriter = 150
        let ranges = try await withThrowingTaskGroup(of: [ClosedRange<Int64>].self) { group in
            for writer in 0..<writers {
                group.addTask {
                    var ranges: [ClosedRange<Int64>] = []
                    for index in 0..<appendsPerWriter {
                        let records = Batches.buffer(count: 1 + index % 3, seed: writer * 1000 + index, valueSize: 20)
                        let info: AppendInfo
                        if writer == 0 && index % 10 == 0 {
                            info = try await log.appendDurably(records)
                            #expect(log.recoveryPoint > info.lastOffset)
                        } else {
                            info = try log.append(records)
                        }
                        ranges.append(info.firstOffset...info.lastOffset)
                    }
                    return ranges
                }
            }
            for reader in 0..<2 {
                group.addTask {
                    var generator = SystemRandomNumberGenerator()
                    while log.logEndOffset < Int64(writers * appendsPerWriter) {
                        // Loaded in the order opposite to publication.
                        let stable = log.lastStableOffset
                        let watermark = log.highWatermark
                        let end = log.logEndOffset
                        #expect(stable <= watermark && watermark <= end)
                        guard watermark > 0 else { continue }
                        let offset = Int64.random(in: 0..<watermark, using: &generator)
                        guard let slice = try log.read(from: offset, maxBytes: 300 + reader * 200) else {
                            Issue.record("nothing to read at \(offset) below the high watermark \(watermark)")
                            continue
                        }
                        #expect(slice.nextOffset <= log.highWatermark)
                        let headers = try Batches.headers(try slice.copyBytes())
                        #expect(headers.first?.baseOffset ?? Int64.max <= offset)
                        #expect(headers.last?.lastOffset ?? -1 >= offset)
                        for (before, after) in zip(headers, headers.dropFirst()) {
                            #expect(after.baseOffset == before.lastOffset + 1)
                        }
                    }
                    return []
                }
            }
            var all: [ClosedRange<Int64>] = []
            for try await ranges in group { all += ranges }
            return all
        }
        let total = log.logEndOffset
        #expect(log.highWatermark == total && log.lastStableOffset == total)
        var next: Int64 = 0
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            #expect(range.lowerBound == next)
            next = range.upperBound + 1
        }
        #expect(next == total)
        var offset: Int64 = 0
        var batches = 0
        while let slice = try log.read(from: offset, maxBytes: 1 << 20) {
            let headers = try Batches.headers(try slice.copyBytes())
            for header in headers {
                #expect(header.baseOffset == offset)
                offset = header.lastOffset + 1
            }
            batches += headers.count
        }
        #expect(offset == total)
        #expect(batches == writers * appendsPerWriter)
        try log.close()
    }
}
