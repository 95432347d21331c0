import NIOCore
import Testing
@testable import LogEngine

struct PartitionLogFollowerTests {
    /// The bytes of `log` from its start, as a follower fetches them.
    private func fetched(_ log: PartitionLog, from offset: Int64 = 0) throws -> [UInt8] {
        try allLogBytes(log, from: offset)
    }

    private func idempotentBatch(producerId: Int64, sequence: Int32, count: Int = 2) -> [UInt8] {
        var encoder = RecordBatchEncoder(baseTimestamp: 1_700_000_000_000)
        encoder.producerId = producerId
        encoder.producerEpoch = 0
        encoder.baseSequence = sequence
        return encoder.build(count: count) { Array("p\($0)".utf8) }
    }

    @Test func appendAsFollower_keepsTheLeadersBytesEpochsAndOffsets() throws {
        let (leaderDirectory, followerDirectory) = (TemporaryDirectory(), TemporaryDirectory())
        let leader = try PartitionLog(directory: leaderDirectory.path, config: smallConfig())
        try leader.append(Batches.buffer(count: 3))
        try leader.becomeLeader(epoch: 2)
        try leader.append(Batches.buffer(count: 2, seed: 1))
        try leader.becomeLeader(epoch: 5)
        try leader.append(Batches.buffer(count: 1, seed: 2))
        let bytes = try fetched(leader)

        let follower = try PartitionLog(directory: followerDirectory.path, config: smallConfig())
        let info = try follower.appendAsFollower(ByteBuffer(bytes: bytes))
        #expect(info.firstOffset == 0 && info.lastOffset == 5 && info.batchCount == 3 && info.recordCount == 6)
        #expect(try fetched(follower) == bytes, "not one byte changed")
        #expect(follower.logEndOffset == 6)
        #expect(follower.highWatermark == 0, "the high watermark waits for the replication layer")
        #expect(follower.leaderEpochCache == leader.leaderEpochCache)
        #expect(follower.endOffset(forLeaderEpoch: 2) == (2, 5))
        follower.updateHighWatermark(4)
        #expect(follower.highWatermark == 4)
        try follower.close()
        let reopened = try PartitionLog(directory: followerDirectory.path, config: smallConfig())
        #expect(reopened.leaderEpochCache == leader.leaderEpochCache)
    }

    @Test func appendAsFollower_refusesOffsetsBelowTheLogEndAndBadCRCs() throws {
        let (leaderDirectory, followerDirectory) = (TemporaryDirectory(), TemporaryDirectory())
        let leader = try PartitionLog(directory: leaderDirectory.path, config: smallConfig())
        try leader.append(Batches.buffer(count: 3))
        try leader.append(Batches.buffer(count: 3, seed: 1))
        let bytes = try fetched(leader)
        let follower = try PartitionLog(directory: followerDirectory.path, config: smallConfig())
        try follower.appendAsFollower(ByteBuffer(bytes: bytes))
        #expect(throws: LogEngineError.self) { try follower.appendAsFollower(ByteBuffer(bytes: bytes)) }
        // Batches out of order inside one request.
        let second = try fetched(leader, from: 3)
        let first = Array(bytes.prefix(bytes.count - second.count))
        let otherDirectory = TemporaryDirectory()
        let other = try PartitionLog(directory: otherDirectory.path, config: smallConfig())
        #expect(throws: LogEngineError.self) { try other.appendAsFollower(ByteBuffer(bytes: second + first)) }
        var corrupt = bytes
        corrupt[corrupt.count - 1] ^= 1
        #expect(throws: LogEngineError.self) { try other.appendAsFollower(ByteBuffer(bytes: corrupt)) }
        #expect(other.logEndOffset == 0 && other.sizeInBytes == 0)
        #expect(follower.logEndOffset == 6)
    }

    @Test func appendAsFollower_tracksProducersWithoutCheckingSequences() throws {
        let (leaderDirectory, followerDirectory) = (TemporaryDirectory(), TemporaryDirectory())
        let leader = try PartitionLog(directory: leaderDirectory.path, config: smallConfig())
        try leader.append(Batches.buffer(count: 2))
        // The leader accepted this producer earlier; its first batches were removed (retention, compaction),
        // so the follower first sees sequence 7.
        try leader.append(ByteBuffer(bytes: idempotentBatch(producerId: 42, sequence: 0, count: 1)))
        var seven = idempotentBatch(producerId: 42, sequence: 7)
        seven.withUnsafeMutableBytes { RecordBatchHeader.rewriteBaseOffset(3, in: $0, at: 0) }
        let follower = try PartitionLog(directory: followerDirectory.path, config: smallConfig())
        try follower.appendAsFollower(ByteBuffer(bytes: try fetched(leader, from: 0)))
        try follower.appendAsFollower(ByteBuffer(bytes: seven))
        let producer = try #require(follower.activeProducers.first { $0.producerId == 42 })
        #expect(producer.batches.last?.lastSequence == 8 && producer.batches.last?.lastOffset == 4)
    }
}
