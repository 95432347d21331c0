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
}
