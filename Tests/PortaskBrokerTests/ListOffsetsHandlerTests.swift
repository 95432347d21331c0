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
            // The answer's timestamp is the found record's own (as Kafka answers), never older than asked.
            #expect(answer.timestamp >= timestamp, "timestamp \(timestamp)")
            #expect(answer.timestamp == 1000 * (offset / 2 + 1) + offset % 2, "timestamp \(timestamp)")
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

    @Test func specialTimestamps_fromVersion7_answerAsKafkaWithoutTieredStorage() throws {
        let fixture = try makeFixture()
        // Max timestamp: the record with the largest timestamp (offset 5 at 3001 ms).
        let max = try query(fixture.manager, ListOffsetsHandler.maxTimestamp, version: 7)
        #expect(max.errorCode == 0 && max.offset == 5 && max.timestamp == 3001 && max.leaderEpoch == 0)
        // Earliest local is the log start; latest tiered and earliest pending upload are -1 with epoch -1.
        try #require(fixture.manager.partition("l", 0)).deleteRecords(before: 2)
        let local = try query(fixture.manager, ListOffsetsHandler.earliestLocal, version: 8)
        #expect(local.errorCode == 0 && local.offset == 2 && local.timestamp == -1)
        for (timestamp, version) in [(ListOffsetsHandler.latestTiered, Int16(9)), (ListOffsetsHandler.earliestPendingUpload, 11)] {
            let answer = try query(fixture.manager, timestamp, version: version)
            #expect(answer.errorCode == 0 && answer.offset == -1 && answer.timestamp == -1 && answer.leaderEpoch == -1)
        }
        // Each special timestamp needs the version that introduced it; unknown negative ones are never served.
        for (timestamp, first) in [(Int64(-3), Int16(7)), (-4, 8), (-5, 9), (-6, 11)] {
            let below = try query(fixture.manager, timestamp, version: first - 1)
            #expect(below.errorCode == KafkaErrorCode.unsupportedVersion.rawValue, "\(timestamp) at v\(first - 1)")
        }
        #expect(try query(fixture.manager, -7, version: 11).errorCode == KafkaErrorCode.unsupportedVersion.rawValue)
    }

    @Test func maxTimestamp_isTheFirstRecordHoldingIt_andEmptyLogAnswersNone() throws {
        let fixture = try TemporaryTopics()
        try fixture.manager.create(name: "m", partitions: 1)
        #expect(try query(fixture.manager, ListOffsetsHandler.maxTimestamp, topic: "m", version: 11).offset == -1)
        let log = try #require(fixture.manager.partition("m", 0))
        // Out-of-order timestamps inside one compressed batch, then an older batch: the max (9000) is offset 2.
        var encoder = RecordBatchEncoder(baseTimestamp: 5000)
        encoder.compression = .gzip
        let deltas: [Int64] = [0, 100, 4000, 4000, 50]
        try log.append(ByteBuffer(bytes: encoder.encode(deltas.map { .init(value: [1], timestampDelta: $0) })))
        try log.append(ByteBuffer(bytes: RecordBatchEncoder(baseTimestamp: 6000).build(count: 2) { _ in [2] }))
        let max = try query(fixture.manager, ListOffsetsHandler.maxTimestamp, topic: "m", version: 7)
        #expect(max.errorCode == 0 && max.offset == 2 && max.timestamp == 9000)
    }

    @Test func byTimestamp_insideACompressedBatch_isTheExactRecord() throws {
        let fixture = try TemporaryTopics()
        try fixture.manager.create(name: "c", partitions: 1)
        let log = try #require(fixture.manager.partition("c", 0))
        for codec in [CompressionCodec.gzip, .lz4, .zstd, .snappy] {
            var encoder = RecordBatchEncoder(baseOffset: 0, baseTimestamp: 10_000)
            encoder.compression = codec
            try log.append(ByteBuffer(bytes: encoder.encode((0..<10).map { .init(value: [UInt8($0)], timestampDelta: Int64($0) * 10) })))
        }
        // Batch k holds offsets 10k..10k+9 at 10000, 10010, ... 10090 ms: 10035 is the 5th record of the first batch.
        let answer = try query(fixture.manager, 10_035, topic: "c", version: 11)
        #expect(answer.errorCode == 0 && answer.offset == 4 && answer.timestamp == 10_040)
        // Below the log start: the first qualifying record at or after it, inside the same batch.
        _ = try log.deleteRecords(before: 17)
        let after = try query(fixture.manager, 10_000, topic: "c", version: 11)
        #expect(after.offset == 17 && after.timestamp == 10_070)
    }

    @Test func duplicatePartitions_areInvalidRequest() throws {
        let fixture = try makeFixture()
        let request = ListOffsetsRequest(replicaId: -1, topics: [
            .init(name: "l", partitions: [.init(partitionIndex: 0, timestamp: -1), .init(partitionIndex: 0, timestamp: -2)]),
        ])
        let response = ListOffsetsHandler(topics: fixture.manager).respond(request, version: 11)
        #expect(response.topics[0].partitions.allSatisfy { $0.errorCode == KafkaErrorCode.invalidRequest.rawValue })
    }
}
