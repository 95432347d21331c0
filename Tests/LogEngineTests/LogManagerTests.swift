import Foundation
import Testing
@testable import LogEngine

struct LogManagerTests {
    @Test func init_writesMetaPropertiesAndReadsThemBack() throws {
        let directory = TemporaryDirectory()
        let first = try LogManager(directory: directory.path, nodeID: 3, clusterID: "cluster-a")
        #expect(first.meta.clusterID == "cluster-a" && first.meta.nodeID == 3)
        #expect(first.meta.directoryID.count == 22)
        let second = try LogManager(directory: directory.path, nodeID: 3)
        #expect(second.meta == first.meta)
        #expect(throws: LogEngineError.self) { try LogManager(directory: directory.path, nodeID: 4) }
    }

    @Test func createLog_makesTopicPartitionDirectory() throws {
        let directory = TemporaryDirectory()
        let manager = try LogManager(directory: directory.path, defaultConfig: smallConfig())
        let log = try manager.createLog(for: TopicPartition("orders-eu", 2))
        #expect(log.directory == directory.file("orders-eu-2"))
        #expect(FileSystem.exists(directory.file("orders-eu-2/00000000000000000000.log")))
        #expect(try manager.createLog(for: TopicPartition("orders-eu", 2)) === log)
        #expect(throws: LogEngineError.self) { try manager.createLog(for: TopicPartition("bad/name", 0)) }
    }

    @Test func close_writesCheckpoints_andReopenScansNothing() throws {
        let directory = TemporaryDirectory()
        do {
            let manager = try LogManager(directory: directory.path, defaultConfig: smallConfig())
            for partition in Int32(0)..<3 {
                let log = try manager.createLog(for: TopicPartition("t", partition))
                for seed in 0..<(Int(partition) + 1) * 5 { try log.append(Batches.buffer(count: 2, seed: seed)) }
            }
            try manager.log(for: TopicPartition("t", 1))?.deleteRecords(before: 4)
            try manager.close()
        }
        let text = try #require(try FileSystem.readString(directory.file(LogManager.recoveryPointCheckpointName)))
        #expect(text == "0\n3\nt 0 10\nt 1 20\nt 2 30\n")
        let starts = try OffsetCheckpointFile(directory: directory.path, name: LogManager.logStartCheckpointName).read()
        #expect(starts[TopicPartition("t", 1)] == 4)
        let reopened = try LogManager(directory: directory.path, defaultConfig: smallConfig())
        #expect(reopened.allLogs.count == 3)
        for (partition, log) in reopened.allLogs {
            #expect(log.recoveryStats.bytesScanned == 0)
            #expect(log.logEndOffset == Int64(partition.partition + 1) * 10)
        }
        #expect(reopened.log(for: TopicPartition("t", 1))?.logStartOffset == 4)
    }

    @Test func reopen_afterUncleanStop_recoversFromCheckpoint() throws {
        let directory = TemporaryDirectory()
        do {
            let manager = try LogManager(directory: directory.path, defaultConfig: smallConfig())
            let log = try manager.createLog(for: TopicPartition("t", 0))
            for seed in 0..<5 { try log.append(Batches.buffer(count: 2, seed: seed)) }
            // No close: the checkpoint still says 0, so the whole log is scanned.
        }
        let reopened = try LogManager(directory: directory.path, defaultConfig: smallConfig())
        let log = try #require(reopened.log(for: TopicPartition("t", 0)))
        #expect(log.logEndOffset == 10)
        #expect(log.recoveryStats.bytesScanned > 0)
    }

    @Test func deleteLog_removesDirectoryAndCheckpointEntry() throws {
        let directory = TemporaryDirectory()
        let manager = try LogManager(directory: directory.path, defaultConfig: smallConfig())
        let log = try manager.createLog(for: TopicPartition("gone", 0))
        try log.append(Batches.buffer())
        let slice = try #require(try log.read(from: 0, maxBytes: 100))
        try manager.deleteLog(for: TopicPartition("gone", 0))
        #expect(!FileSystem.exists(directory.file("gone-0")))
        #expect(manager.log(for: TopicPartition("gone", 0)) == nil)
        #expect(try slice.copyBytes().count == slice.length)
        #expect(throws: LogEngineError.self) { try manager.deleteLog(for: TopicPartition("gone", 0)) }
    }

    @Test func init_removesDirectoriesMarkedForDeletion() throws {
        let directory = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory.file("x-0.abc-delete"), withIntermediateDirectories: true)
        try Data([1]).write(to: URL(fileURLWithPath: directory.file("x-0.abc-delete/00000000000000000000.log")))
        let manager = try LogManager(directory: directory.path)
        #expect(!FileSystem.exists(directory.file("x-0.abc-delete")))
        #expect(manager.allLogs.isEmpty)
    }

    @Test func runMaintenance_appliesRetention() throws {
        let directory = TemporaryDirectory()
        let clock = ManualClock(10_000_000)
        let manager = try LogManager(
            directory: directory.path, defaultConfig: smallConfig(segmentBytes: 1024, retentionMs: 1000),
            clock: clock.logClock)
        let log = try manager.createLog(for: TopicPartition("r", 0))
        for seed in 0..<20 { try log.append(Batches.buffer(count: 1, timestamp: 10_000_000, seed: seed, valueSize: 200)) }
        clock.advance(by: 5000)
        #expect(try manager.runMaintenance() > 0)
        #expect(log.segments.count == 1)
    }

    @Test func manyPartitions_holdOneDescriptorEach() throws {
        let directory = TemporaryDirectory()
        func openDescriptors() throws -> Int { try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count }
        let before = try openDescriptors()
        do {
            let manager = try LogManager(directory: directory.path, defaultConfig: smallConfig())
            for partition in Int32(0)..<100 {
                try manager.createLog(for: TopicPartition("many", partition)).append(Batches.buffer())
            }
            try manager.close()
        }
        let reopened = try LogManager(directory: directory.path, defaultConfig: smallConfig())
        #expect(reopened.allLogs.count == 100)
        #expect(reopened.allLogs.values.allSatisfy { $0.logEndOffset == 3 && $0.recoveryStats.bytesScanned == 0 })
        // One .log descriptor per partition; index files are mapped without a descriptor. Other tests run in
        // parallel and open files too, hence the slack.
        #expect(try openDescriptors() - before <= 100 + 40)
    }
}
