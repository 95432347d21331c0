import Foundation
import Testing
@testable import LogEngine

/// Fixtures built on disk, then damaged, then opened: each must open to the valid prefix.
struct RecoveryTests {
    /// Writes `batches` batches of 2 records (each its own append) and closes the log uncleanly (no close).
    private func writeLog(_ directory: TemporaryDirectory, batches: Int = 20, segmentBytes: Int = 1 << 20)
        throws -> (all: [[UInt8]], config: LogConfig)
    {
        let config = smallConfig(segmentBytes: segmentBytes)
        let log = try PartitionLog(directory: directory.path, config: config)
        var all: [[UInt8]] = []
        for seed in 0..<batches {
            let bytes = Batches.bytes(count: 2, seed: seed, valueSize: 60)
            let info = try log.append(Batches.buffer(bytes))
            all.append(Batches.stored(bytes, baseOffset: info.firstOffset, leaderEpoch: 0))
        }
        try log.flush()
        return (all, config)
    }

    /// All batches readable from `log`, in order.
    private func readAll(_ log: PartitionLog) throws -> [[UInt8]] {
        var result: [[UInt8]] = []
        var offset = log.logStartOffset
        while let slice = try log.read(from: offset, maxBytes: 1) {
            result.append(try slice.copyBytes())
            offset = slice.nextOffset
        }
        return result
    }

    private func modify(_ path: String, _ body: (inout [UInt8]) -> Void) throws {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        body(&bytes)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    private let firstLog = "00000000000000000000.log"

    @Test func open_whenByteFlippedMidSegment_truncatesFromCorruptBatch() throws {
        let directory = TemporaryDirectory()
        let (all, config) = try writeLog(directory)
        let batchSize = all[0].count
        try modify(directory.file(firstLog)) { $0[batchSize * 10 + 40] ^= 0x01 }
        let log = try PartitionLog(directory: directory.path, config: config)
        #expect(log.logEndOffset == 20)
        #expect(try readAll(log) == Array(all.prefix(10)))
        #expect(log.recoveryStats.bytesTruncated == batchSize * 10)
        #expect(try log.append(Batches.buffer()).firstOffset == 20)
    }

    @Test func open_whenTailTruncated_keepsWholeBatches() throws {
        let directory = TemporaryDirectory()
        let (all, config) = try writeLog(directory)
        try modify(directory.file(firstLog)) { $0.removeLast(7) }
        let log = try PartitionLog(directory: directory.path, config: config)
        #expect(try readAll(log) == Array(all.prefix(19)))
        #expect(log.logEndOffset == 38)
    }

    @Test func open_whenTailZeroFilled_truncatesZeros() throws {
        let directory = TemporaryDirectory()
        let (all, config) = try writeLog(directory)
        try modify(directory.file(firstLog)) { $0 += [UInt8](repeating: 0, count: 8192) }
        let log = try PartitionLog(directory: directory.path, config: config)
        #expect(try readAll(log) == all)
        #expect(log.recoveryStats.bytesTruncated == 8192)
        #expect(FileSystem.fileInfo(directory.file(firstLog))?.size == all.reduce(0) { $0 + $1.count })
    }

    @Test func open_whenZeroFilledTailAfterCleanClose_truncatesZerosAndAppendsStayReadable() throws {
        let directory = TemporaryDirectory()
        let (all, config) = try writeLog(directory)
        let log = try PartitionLog(directory: directory.path, config: config)
        try log.close()
        try modify(directory.file(firstLog)) { $0 += [UInt8](repeating: 0, count: 5000) }
        let reopened = try PartitionLog(directory: directory.path, config: config, recoveryPoint: 40)
        #expect(reopened.logEndOffset == 40)
        #expect(try readAll(reopened) == all)
        let extra = Batches.bytes(seed: 99)
        try reopened.append(Batches.buffer(extra))
        #expect(try readAll(reopened) == all + [Batches.stored(extra, baseOffset: 40, leaderEpoch: 0)])
    }

    @Test func open_whenLastBatchesZeroedInPlace_truncatesThem() throws {
        let directory = TemporaryDirectory()
        let (all, config) = try writeLog(directory)
        let batchSize = all[0].count
        try modify(directory.file(firstLog)) { bytes in
            for index in (batchSize * 17)..<bytes.count { bytes[index] = 0 }
        }
        let log = try PartitionLog(directory: directory.path, config: config)
        #expect(try readAll(log) == Array(all.prefix(17)))
    }

    @Test func open_whenIndexEntryPointsPastEnd_rebuildsIndex() throws {
        let directory = TemporaryDirectory()
        let (all, config) = try writeLog(directory, batches: 40, segmentBytes: 2048)
        let log = try PartitionLog(directory: directory.path, config: config)
        try log.close()
        // Clean close: the recovery point covers everything, so only index validation can catch the damage.
        try modify(directory.file("00000000000000000000.index")) { bytes in
            let last = bytes.count - 4
            bytes.withUnsafeMutableBytes { $0.storeInt32BE(Int32.max - 1, at: last) }
        }
        let reopened = try PartitionLog(directory: directory.path, config: config, recoveryPoint: 80)
        #expect(reopened.recoveryStats.bytesScanned == 0)
        #expect(try readAll(reopened) == all)
        for offset in Int64(0)..<80 {
            #expect(try reopened.read(from: offset, maxBytes: 1)?.firstOffset == offset - offset % 2)
        }
    }

    @Test func open_whenIndexMissing_rebuildsIndex() throws {
        let directory = TemporaryDirectory()
        let (all, config) = try writeLog(directory, batches: 40, segmentBytes: 2048)
        let log = try PartitionLog(directory: directory.path, config: config)
        try log.close()
        try FileManager.default.removeItem(atPath: directory.file("00000000000000000000.index"))
        try FileManager.default.removeItem(atPath: directory.file("00000000000000000000.timeindex"))
        let reopened = try PartitionLog(directory: directory.path, config: config, recoveryPoint: 80)
        #expect(try readAll(reopened) == all)
        #expect(try reopened.read(from: 33, maxBytes: 1)?.firstOffset == 32)
        #expect(FileSystem.exists(directory.file("00000000000000000000.index")))
        #expect(try reopened.offset(forTimestamp: 1_700_000_000_001) == 1)
    }

    @Test func open_whenMiddleSegmentCorrupt_dropsLaterSegments() throws {
        let directory = TemporaryDirectory()
        let (all, config) = try writeLog(directory, batches: 40, segmentBytes: 1024)
        let names = try FileSystem.list(directory.path).filter { $0.hasSuffix(".log") }.sorted()
        #expect(names.count > 3)
        let batchSize = all[0].count
        let perSegment = 1024 / batchSize
        try modify(directory.file(names[1])) { $0[batchSize + 70] ^= 0xFF }
        let log = try PartitionLog(directory: directory.path, config: config)
        #expect(try readAll(log) == Array(all.prefix(perSegment + 1)))
        #expect(log.segments.count == 2)
        #expect(try FileSystem.list(directory.path).filter { $0.hasSuffix(".log") }.count == 2)
    }

    @Test func open_removesLeftoverDeletedFiles() throws {
        let directory = TemporaryDirectory()
        let (_, config) = try writeLog(directory, batches: 2)
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: directory.file("00000000000000000099.log.deleted")))
        _ = try PartitionLog(directory: directory.path, config: config)
        #expect(!FileSystem.exists(directory.file("00000000000000000099.log.deleted")))
    }
}
