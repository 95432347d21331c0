import Foundation
import KafkaProtocol
import Testing
@testable import PortaskBroker

/// DescribeTopicPartitions (key 75): name order, the partition limit and the cursor, as Kafka pages them.
struct DescribeTopicPartitionsTests {
    private func makeHandler(_ fixture: TemporaryTopics, maximum: Int = 2000) throws -> DescribeTopicPartitionsHandler {
        try fixture.manager.create(name: "b", partitions: 3)
        try fixture.manager.create(name: "a", partitions: 2)
        try fixture.manager.create(name: "c", partitions: 1)
        let cluster = ClusterIdentity(clusterId: "c", advertisedHost: "127.0.0.1", advertisedPort: 9092)
        return DescribeTopicPartitionsHandler(cluster: cluster, topics: fixture.manager, maximumPartitions: maximum)
    }

    private func pages(_ handler: DescribeTopicPartitionsHandler, topics: [String], limit: Int32) throws -> [[String]] {
        var cursor: DescribeTopicPartitionsRequest.Cursor?
        var pages: [[String]] = []
        repeat {
            let response = handler.respond(DescribeTopicPartitionsRequest(
                topics: topics.map { .init(name: $0) }, responsePartitionLimit: limit, cursor: cursor))
            try expectEncodes(response, versions: 0...0)
            pages.append(response.topics.flatMap { topic in topic.partitions.map { "\(topic.name ?? "")-\($0.partitionIndex)" } })
            cursor = response.nextCursor.map { .init(topicName: $0.topicName, partitionIndex: $0.partitionIndex) }
            #expect(pages.count < 10)
        } while cursor != nil && pages.count < 10
        return pages
    }

    @Test func everyTopic_isPagedThroughTheCursor() throws {
        let fixture = try TemporaryTopics()
        let handler = try makeHandler(fixture)
        #expect(try pages(handler, topics: [], limit: 2000) == [["a-0", "a-1", "b-0", "b-1", "b-2", "c-0"]])
        #expect(try pages(handler, topics: [], limit: 2) == [["a-0", "a-1"], ["b-0", "b-1"], ["b-2", "c-0"]])
        #expect(try pages(handler, topics: [], limit: 4) == [["a-0", "a-1", "b-0", "b-1"], ["b-2", "c-0"]])
        // The limit is at least 1 and at most the broker's.
        #expect(try pages(handler, topics: ["a"], limit: 0) == [["a-0"], ["a-1"]])
        let capped = try makeHandler(TemporaryTopics(), maximum: 5)
        #expect(try pages(capped, topics: [], limit: 100) == [["a-0", "a-1", "b-0", "b-1", "b-2"], ["c-0"]])
    }

    @Test func namedTopics_reportMissingOnes_andDescribeOneReplica() throws {
        let fixture = try TemporaryTopics()
        let handler = try makeHandler(fixture)
        let response = handler.respond(DescribeTopicPartitionsRequest(
            topics: [.init(name: "c"), .init(name: "zz"), .init(name: "bad/name"), .init(name: "a")]))
        #expect(response.topics.map(\.name) == ["a", "bad/name", "c", "zz"])
        #expect(response.topics.map(\.errorCode) == [
            0, KafkaErrorCode.invalidTopicException.rawValue, 0, KafkaErrorCode.unknownTopicOrPartition.rawValue,
        ])
        let partition = response.topics[0].partitions[0]
        #expect(partition.leaderId == 0 && partition.leaderEpoch == 0 && partition.replicaNodes == [0] && partition.isrNodes == [0])
        #expect(response.topics[0].topicId == fixture.manager.topic(named: "a")?.id)
        #expect(response.topics[0].topicAuthorizedOperations == DescribeTopicPartitionsHandler.topicOperations)
        #expect(response.nextCursor == nil)
    }

    @Test func aCursorOutsideTheList_orNegative_isInvalidRequest() throws {
        let fixture = try TemporaryTopics()
        let handler = try makeHandler(fixture)
        for cursor in [DescribeTopicPartitionsRequest.Cursor(topicName: "b", partitionIndex: 0), .init(topicName: "a", partitionIndex: -1)] {
            let response = handler.respond(DescribeTopicPartitionsRequest(topics: [.init(name: "a")], cursor: cursor))
            #expect(response.topics.map(\.errorCode) == [KafkaErrorCode.invalidRequest.rawValue])
            #expect(response.topics[0].partitions.isEmpty)
        }
        // A cursor past the topic's partitions describes none of them and goes on with the next topic.
        let past = handler.respond(DescribeTopicPartitionsRequest(
            topics: [.init(name: "a"), .init(name: "b")], cursor: .init(topicName: "a", partitionIndex: 7)))
        #expect(past.topics.map { $0.partitions.count } == [0, 3])
    }
}
