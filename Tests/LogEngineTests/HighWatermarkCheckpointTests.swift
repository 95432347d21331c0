import NIOCore
import Testing
@testable import LogEngine

struct HighWatermarkCheckpointTests {
    @Test func checkpoint_writesEveryPartitionsHighWatermarkInKafkasFormat() throws {
        let directory = TemporaryDirectory()
        do {
            let manager = try LogManager(directory: directory.path, defaultConfig: smallConfig())
            let first = try manager.createLog(for: TopicPartition("a", 0))
            let second = try manager.createLog(for: TopicPartition("b", 1))
            try first.append(Batches.buffer(count: 3))
            try second.append(Batches.buffer(count: 2))
            second.updateHighWatermark(1)
            try manager.checkpoint()
            #expect(try FileSystem.readString(directory.file("replication-offset-checkpoint")) == "0\n2\na 0 3\nb 1 1\n")
            try manager.close()
        }
        let reopened = try LogManager(directory: directory.path, defaultConfig: smallConfig())
        #expect(reopened.checkpointedHighWatermarks == [TopicPartition("a", 0): 3, TopicPartition("b", 1): 1])
        // A single replica's high watermark is its log end, whatever was checkpointed.
        #expect(reopened.log(for: TopicPartition("b", 1))?.highWatermark == 2)
    }

    @Test func highWatermark_isIndependentOfTheLogEndForFollowers() throws {
        let (leaderDirectory, followerDirectory) = (TemporaryDirectory(), TemporaryDirectory())
        let leader = try PartitionLog(directory: leaderDirectory.path, config: smallConfig())
        try leader.append(Batches.buffer(count: 4))
        let bytes = try #require(try leader.read(from: 0, maxBytes: 1 << 20)).copyBytes()
        let follower = try PartitionLog(directory: followerDirectory.path, config: smallConfig())
        try follower.appendAsFollower(.init(bytes: bytes))
        #expect(follower.logEndOffset == 4 && follower.highWatermark == 0 && follower.lastStableOffset == 0)
        follower.updateHighWatermark(9)
        #expect(follower.highWatermark == 4, "never above the log end")
        try follower.truncate(to: 0)
        #expect(follower.highWatermark == 0 && follower.logEndOffset == 0)
    }
}
