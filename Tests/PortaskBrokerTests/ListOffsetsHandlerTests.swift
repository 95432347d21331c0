import Foundation
import KafkaProtocol
import LogEngine
import NIOCore
import Testing
@testable import PortaskBroker

/// ListOffsets (key 2) through `ListOffsetsHandler` over a real TopicManager.
struct ListOffsetsHandlerTests {
    /// Three two-record batches: offsets 0–1 at 1000/1001 ms, 2–3 at 2000/2001 ms, 4–5 at 3000/3001 ms.
    private func makeFixture() throws -> TemporaryTopics {
        let fixture = try TemporaryTopics()
        try fixture.manager.create(name: "l", partitions: 1)
        let log = try #require(fixture.manager.partition("l", 0))
        for base: Int64 in [1000, 2000, 3000] {
            let batch = RecordBatchEncoder(baseTimestamp: base).build(count: 2) { Array("v\($0)".utf8) }
            try log.append(ByteBuffer(bytes: batch))
        }
        return fixture
    }

    private func query(
        _ topics: TopicManager, _ timestamp: Int64, partition: Int32 = 0, topic: String = "l", version: Int16 = 6
    ) throws -> ListOffsetsResponse.ListOffsetsPartitionResponse {
        let request = ListOffsetsRequest(replicaId: -1, topics: [
            .init(name: topic, partitions: [.init(partitionIndex: partition, timestamp: timestamp)]),
        ])
        let response = ListOffsetsHandler(topics: topics).respond(request, version: version)
        #expect(response.topics.count == 1 && response.topics.first?.name == topic)
        return try #require(response.topics.first?.partitions.first)
    }

    @Test func earliestAndLatest_areTheLogStartAndTheHighWatermark() throws {
        let fixture = try makeFixture()
        let earliest = try query(fixture.manager, ListOffsetsHandler.earliest)
        #expect(earliest.errorCode == 0 && earliest.offset == 0 && earliest.timestamp == -1)
        #expect(earliest.leaderEpoch == 0)
        let latest = try query(fixture.manager, ListOffsetsHandler.latest)
        #expect(latest.errorCode == 0 && latest.offset == 6 && latest.timestamp == -1)

        // After DeleteRecords the earliest offset moves; the latest does not.
        try #require(fixture.manager.partition("l", 0)).deleteRecords(before: 3)
        #expect(try query(fixture.manager, ListOffsetsHandler.earliest).offset == 3)
        #expect(try query(fixture.manager, ListOffsetsHandler.latest).offset == 6)
    }

    @Test func byTimestamp_isTheFirstOffsetAtLeastThatNew() throws {
        let fixture = try makeFixture()
        // timestamp -> offset (Kafka's rule: the first record whose timestamp is at least the one asked).
        let expected: [Int64: Int64] = [0: 0, 1000: 0, 1001: 1, 1500: 2, 2000: 2, 2001: 3, 3001: 5]
        for (timestamp, offset) in expected.sorted(by: { $0.key < $1.key }) {
            let answer = try query(fixture.manager, timestamp)
            #expect(answer.errorCode == 0, "timestamp \(timestamp)")
            #expect(answer.offset == offset, "timestamp \(timestamp)")
            // The answer's timestamp is that of the found batch (its max timestamp), never older than asked.
            #expect(answer.timestamp >= timestamp, "timestamp \(timestamp)")
            #expect(answer.timestamp == 1001 + 1000 * (offset / 2), "timestamp \(timestamp)")
        }
        // Newer than every record: no offset (-1), no error.
        let none = try query(fixture.manager, 3002)
        #expect(none.errorCode == 0 && none.offset == -1 && none.timestamp == -1)
        // Records before the log start are not found.
        try #require(fixture.manager.partition("l", 0)).deleteRecords(before: 3)
        #expect(try query(fixture.manager, 1000).offset == 3)
    }

    @Test func version0_answersInOldStyleOffsets() throws {
        let fixture = try makeFixture()
        let latest = try query(fixture.manager, ListOffsetsHandler.latest, version: 0)
        #expect(latest.errorCode == 0 && latest.oldStyleOffsets == [6] && latest.offset == -1)
        let none = try query(fixture.manager, 9999, version: 0)
        #expect(none.errorCode == 0 && none.oldStyleOffsets.isEmpty)
        let earliest = try query(fixture.manager, ListOffsetsHandler.earliest, version: 3)
        #expect(earliest.offset == 0 && earliest.leaderEpoch == -1)
    }

    @Test func unknownPartitionOrTopic_isUnknownTopicOrPartition() throws {
        let fixture = try makeFixture()
        for (topic, partition) in [("l", Int32(1)), ("l", -1), ("absent", 0)] {
            let answer = try query(fixture.manager, ListOffsetsHandler.latest, partition: partition, topic: topic)
            #expect(answer.errorCode == KafkaErrorCode.unknownTopicOrPartition.rawValue, "\(topic)-\(partition)")
            #expect(answer.offset == -1 && answer.partitionIndex == partition)
        }
    }

    @Test func maxTimestampQuery_isNotServedBelowVersion7() throws {
        let fixture = try makeFixture()
        let answer = try query(fixture.manager, -3)
        #expect(answer.errorCode == KafkaErrorCode.unsupportedVersion.rawValue)
    }
}
