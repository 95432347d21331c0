import Testing
@testable import LogEngine

struct LogConfigTests {
    @Test func init_defaultsAreKafkas() {
        let config = LogConfig()
        #expect(config.segmentBytes == 1 << 30)
        #expect(config.segmentIndexBytes == 10 << 20)
        #expect(config.indexIntervalBytes == 4096)
        #expect(config.maxMessageBytes == 1_048_588)
        #expect(config.retentionMs == 7 * 24 * 3_600_000)
        #expect(config.retentionBytes == -1)
        #expect(config.messageTimestampType == .createTime)
    }

    @Test func partitionLog_whenSegmentBytesTooSmall_throwsInvalidArgument() {
        let directory = TemporaryDirectory()
        #expect(throws: LogEngineError.self) {
            try PartitionLog(directory: directory.path, config: LogConfig(segmentBytes: 10))
        }
    }
}
