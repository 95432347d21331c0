import Foundation
import LogEngine
import Testing
@testable import PortaskVerifyKit

/// `--repair` on a partition whose cleaner stopped mid-replace, in the states Kafka's `LocalLog.replaceSegments`
/// leaves on disk (cleaned files renamed `.cleaned` → `.swap` — log, offset index, time index —
/// then the replaced segments renamed `.deleted`, then the `.swap` files renamed to their final names): the
/// repair must do exactly what the broker's start-up does, and lose no record the cleaned segment holds.
struct InterruptedSwapTests {
    /// The stages of a replace at which the fixture stops.
    enum Stage: CaseIterable {
        /// `.cleaned` files written, none renamed yet: the clean is discarded.
        case cleanedOnly
        /// The log renamed `.swap`, its indexes still `.cleaned` (a stop inside the renames): discarded.
        case swapWithCleanedIndexes
        /// Every cleaned file renamed `.swap`; the replaced segments untouched: the swap is completed.
        case swapped
        /// As `swapped`, and the first replaced segment already renamed `.deleted`: the swap is completed.
        case swappedOldPartlyDeleted
    }

    /// A Kafka partition of three segments (bases 0, 24, 48; 8 batches of 3 records each) and the cleaned
    /// replacement of the first two, written as Kafka's cleaner writes it: one segment at base 0 holding every
    /// other batch unchanged (a batch whose records all lost to later offsets disappears whole), the round's
    /// last batch (offsets 45-47) kept, with Kafka's offset and time indexes (no transaction index: Kafka
    /// creates that file only for aborted transactions).
    static func makeCrashedPartition(in parent: String, stage: Stage) throws -> (directory: String, kept: [Int64]) {
        let (directory, _) = try makeKafkaPartition(in: parent)
        let scratch = parent + "/scratch"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var cleaned = KafkaSegmentWriter(directory: scratch, baseOffset: 0)
        var kept: [Int64] = []
        for base: Int64 in [0, 24] {
            let path = segmentPath(directory, base, ".log")
            let bytes = try Damager.read(path)
            for (index, batch) in try batchPositions(path).enumerated() where index % 2 == 1 {
                try cleaned.append(Array(bytes[batch.position..<(batch.position + batch.header.totalSize)]))
                kept.append(batch.header.baseOffset)
            }
        }
        #expect(kept.last == 45)
        try cleaned.write()
        let suffixes = [".log", ".index", ".timeindex"]
        let stageSuffixes: [String]
        switch stage {
        case .cleanedOnly: stageSuffixes = [".cleaned", ".cleaned", ".cleaned"]
        case .swapWithCleanedIndexes: stageSuffixes = [".swap", ".cleaned", ".cleaned"]
        case .swapped, .swappedOldPartlyDeleted: stageSuffixes = [".swap", ".swap", ".swap"]
        }
        for (suffix, stageSuffix) in zip(suffixes, stageSuffixes) {
            try FileManager.default.moveItem(
                atPath: segmentPath(scratch, 0, suffix), toPath: segmentPath(directory, 0, suffix + stageSuffix))
        }
        if stage == .swappedOldPartlyDeleted {
            for suffix in suffixes {
                try FileManager.default.moveItem(
                    atPath: segmentPath(directory, 0, suffix), toPath: segmentPath(directory, 0, suffix + ".deleted"))
            }
        }
        return (directory, kept)
    }

    /// Batch base offsets of every `.log` of `directory`, in file order.
    static func batchOffsets(_ directory: String) throws -> [Int64] {
        let logs = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".log") }.sorted()
        return try logs.flatMap { try batchPositions(directory + "/" + $0).map(\.header.baseOffset) }
    }

    @Test(arguments: Stage.allCases)
    func repair_finishesOrDiscardsTheSwap_asStartUpDoes(stage: Stage) throws {
        let root = TemporaryDirectory()
        let (directory, kept) = try Self.makeCrashedPartition(in: root.path + "/a", stage: stage)
        let startUpCopy = root.path + "/b/orders-0"
        try FileManager.default.createDirectory(atPath: root.path + "/b", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: directory, toPath: startUpCopy)

        let verifier = Verifier()
        let before = try verifier.verify([directory])
        #expect(before.warnings.contains { $0.file.hasSuffix(".swap") || $0.file.hasSuffix(".cleaned") }, "\(before.text)")
        let report = try verifier.verifyAndRepair([directory])
        #expect(report.remainingDamage == [], "\(report.text)")
        #expect(report.repairs?.map(\.action) == ["recoveredPartition"], "\(report.text)")
        let after = try verifier.verify([directory])
        #expect(after.isClean, "\(after.text)")
        #expect(!after.warnings.contains { ["swap", "cleaned", "deleted"].contains($0.file.split(separator: ".").last ?? "") })

        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
        #expect(!names.contains { $0.hasSuffix(".swap") || $0.hasSuffix(".cleaned") || $0.hasSuffix(".deleted") })
        let offsets = try Self.batchOffsets(directory)
        switch stage {
        case .cleanedOnly, .swapWithCleanedIndexes:
            // Discarded: every original batch is there, once.
            #expect(offsets == stride(from: 0, to: 72, by: 3).map { Int64($0) })
            #expect(report.repairs?.first?.message.contains("incomplete swap") == (stage == .swapWithCleanedIndexes))
        case .swapped, .swappedOldPartlyDeleted:
            // Completed: the cleaned batches, then segment 48's, no offset twice.
            #expect(offsets == kept + stride(from: 48, to: 72, by: 3).map { Int64($0) })
            #expect(report.repairs?.first?.message.contains("completed the interrupted swap") == true)
            #expect(!FileManager.default.fileExists(atPath: segmentPath(directory, 24, ".log")))
        }

        // The broker's start-up on the same files leaves the same logs.
        let log = try PartitionLog(directory: startUpCopy)
        try log.close()
        let startUpNames = try FileManager.default.contentsOfDirectory(atPath: startUpCopy)
        #expect(Set(startUpNames.filter { !$0.hasSuffix(".snapshot") }) == Set(names.filter { !$0.hasSuffix(".snapshot") }))
        for name in names where name.hasSuffix(".log") || name.hasSuffix(".txnindex") {
            #expect(try Damager.read(directory + "/" + name) == Damager.read(startUpCopy + "/" + name), "\(name)")
        }
    }
}
