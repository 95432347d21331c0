import Testing
@testable import LogEngine

struct PartitionLogLeaderEpochTests {
    private func storedHeaders(_ log: PartitionLog) throws -> [RecordBatchHeader] {
        guard let slice = try log.read(from: log.logStartOffset, maxBytes: 1 << 24) else { return [] }
        return try Batches.headers(try slice.copyBytes())
    }

    private func checkpoint(_ directory: TemporaryDirectory) throws -> String? {
        try FileSystem.readString(directory.file(LeaderEpochCache.fileName))
    }

    @Test func newLog_recordsEpochZeroAtItsStartAsKafkaDoes() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(directory: directory.path, config: smallConfig())
        #expect(log.leaderEpoch == 0)
        #expect(try checkpoint(directory) == "0\n1\n0 0\n")
        #expect(log.endOffset(forLeaderEpoch: 0) == (0, 0))
    }

    @Test func append_stampsTheLeaderEpochOverTheClientsValueAndKeepsTheCRCValid() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(directory: directory.path, config: smallConfig())
        let client = Batches.bytes(count: 2)
        #expect(try Batches.headers(client)[0].partitionLeaderEpoch == -1)
        try log.append(Batches.buffer(client + Batches.bytes(count: 3, seed: 1)))
        let headers = try storedHeaders(log)  // `Batches.headers` validates each CRC
        #expect(headers.map(\.partitionLeaderEpoch) == [0, 0])
        #expect(log.endOffset(forLeaderEpoch: 0) == (0, 5))
    }

    @Test func becomeLeader_startsANewEpochAtTheLogEnd() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(directory: directory.path, config: smallConfig())
        try log.append(Batches.buffer(count: 3))
        try log.becomeLeader(epoch: 4)
        try log.append(Batches.buffer(count: 2))
        #expect(try storedHeaders(log).map(\.partitionLeaderEpoch) == [0, 4])
        #expect(try checkpoint(directory) == "0\n2\n0 0\n4 3\n")
        #expect(log.endOffset(forLeaderEpoch: 0) == (0, 3))
        #expect(log.endOffset(forLeaderEpoch: 2) == (0, 3))
        #expect(log.endOffset(forLeaderEpoch: 4) == (4, 5))
        #expect(log.endOffset(forLeaderEpoch: 5) == (-1, -1))
        #expect(throws: LogEngineError.self) { try log.becomeLeader(epoch: 3) }
        try log.close()

        let reopened = try PartitionLog(directory: directory.path, config: smallConfig())
        #expect(reopened.leaderEpoch == 4)
        #expect(reopened.leaderEpochCache.entries.map(\.description) == ["0 0", "4 3"])
    }

    @Test func open_dropsEntriesAboveTheLogEnd() throws {
        let directory = TemporaryDirectory()
        do {
            let log = try PartitionLog(directory: directory.path, config: smallConfig())
            try log.append(Batches.buffer(count: 3))
            try log.close()
        }
        // As after a crash between the checkpoint write and the batches' write.
        try FileSystem.writeAtomically("0\n3\n0 0\n2 3\n3 9\n", to: directory.file(LeaderEpochCache.fileName),
                                       directory: directory.path)
        let log = try PartitionLog(directory: directory.path, config: smallConfig())
        #expect(log.leaderEpochCache.entries.map(\.description) == ["0 0"])
        #expect(log.leaderEpoch == 0)
        #expect(try checkpoint(directory) == "0\n1\n0 0\n")
    }

    @Test func open_rebuildsAnUnreadableCheckpointFromTheBatches() throws {
        let directory = TemporaryDirectory()
        do {
            let log = try PartitionLog(directory: directory.path, config: smallConfig())
            try log.append(Batches.buffer(count: 3))
            try log.becomeLeader(epoch: 2)
            try log.append(Batches.buffer(count: 3))
            try log.close()
        }
        try FileSystem.writeAtomically("0\n2\ngarbage\n", to: directory.file(LeaderEpochCache.fileName),
                                       directory: directory.path)
        let log = try PartitionLog(directory: directory.path, config: smallConfig(), recoveryPoint: 6)
        #expect(log.leaderEpochCache.entries.map(\.description) == ["0 0", "2 3"])
        #expect(log.recoveryStats.warnings.contains { $0.contains("leader epoch checkpoint") })
        #expect(try checkpoint(directory) == "0\n2\n0 0\n2 3\n")
    }

    @Test func open_withoutCheckpoint_replaysTheEpochsOfTheUnflushedTail() throws {
        let directory = TemporaryDirectory()
        do {
            let log = try PartitionLog(directory: directory.path, config: smallConfig())
            try log.becomeLeader(epoch: 1)
            try log.append(Batches.buffer(count: 3))
            try log.becomeLeader(epoch: 3)
            try log.append(Batches.buffer(count: 3))
            try log.close()
        }
        try FileSystem.unlink(directory.file(LeaderEpochCache.fileName))
        let log = try PartitionLog(directory: directory.path, config: smallConfig(), recoveryPoint: 0)
        #expect(log.leaderEpochCache.entries.map(\.description) == ["1 0", "3 3"])
        #expect(log.leaderEpoch == 3)
    }

    @Test func deleteRecords_movesTheFirstEpochUp() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(directory: directory.path, config: smallConfig())
        try log.append(Batches.buffer(count: 3))
        try log.becomeLeader(epoch: 1)
        try log.append(Batches.buffer(count: 3))
        try log.deleteRecords(before: 4)
        #expect(log.leaderEpochCache.entries.map(\.description) == ["1 4"])
        #expect(try checkpoint(directory) == "0\n1\n1 4\n")
        #expect(log.endOffset(forLeaderEpoch: 0) == (0, 4))
    }
}
