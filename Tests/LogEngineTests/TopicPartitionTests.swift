import Testing
@testable import LogEngine

struct TopicPartitionTests {
    @Test func init_parsesDirectoryNames() {
        #expect(TopicPartition(directoryName: "my-topic-12") == TopicPartition("my-topic", 12))
        #expect(TopicPartition(directoryName: "nodash") == nil)
        #expect(TopicPartition(directoryName: "t-x") == nil)
        #expect(TopicPartition(directoryName: "-3") == nil)
    }

    @Test func isValidTopicName_followsKafkasRules() {
        #expect(TopicPartition.isValidTopicName("orders.v2_eu-1"))
        #expect(!TopicPartition.isValidTopicName(""))
        #expect(!TopicPartition.isValidTopicName("."))
        #expect(!TopicPartition.isValidTopicName(".."))
        #expect(!TopicPartition.isValidTopicName("a/b"))
        #expect(!TopicPartition.isValidTopicName(String(repeating: "x", count: 250)))
    }

    @Test func directoryName_joinsTopicAndPartition() {
        #expect(TopicPartition("a-b", 3).directoryName == "a-b-3")
    }
}
