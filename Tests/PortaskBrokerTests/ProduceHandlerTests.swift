import Foundation
import KafkaProtocol
import LogEngine
import NIOCore
import Testing
@testable import PortaskBroker

/// Produce (key 0) through `ProduceHandler` over a real TopicManager: the answers per `acks`, and the
/// per-partition errors.
struct ProduceHandlerTests {
    static let version: Int16 = 9

    static func batch(_ count: Int = 1) -> RecordSet {
        let bytes = RecordBatchEncoder(baseTimestamp: 1_700_000_000_000).build(count: count) { Array("v\($0)".utf8) }
        return RecordSet(bytes: ByteBuffer(bytes: bytes))
    }

    static func request(
        _ topic: String, partition: Int32 = 0, acks: Int16, records: RecordSet? = ProduceHandlerTests.batch()
    ) -> ProduceRequest {
        ProduceRequest(acks: acks, timeoutMs: 1000, topicData: [
            .init(name: topic, partitionData: [.init(index: partition, records: records)]),
        ])
    }

    static func context(_ version: Int16 = version) -> RequestContext {
        RequestContext(apiKey: .produce, apiVersion: version, correlationId: 1, clientId: "test")
    }

    private func only(_ response: ProduceResponse?) throws -> ProduceResponse.PartitionProduceResponse {
        let response = try #require(response)
        #expect(response.responses.count == 1)
        return try #require(response.responses.first?.partitionResponses.first)
    }

    @Test func acksZero_appendsButAnswersNothing() async throws {
        let fixture = try TemporaryTopics()
        try fixture.manager.create(name: "p", partitions: 1)
        let handler = ProduceHandler(topics: fixture.manager)

        let response = await handler.respond(Self.request("p", acks: 0, records: Self.batch(3)), context: Self.context())
        #expect(response == nil)
        #expect(fixture.manager.partition("p", 0)?.logEndOffset == 3)
    }

    @Test func acksOne_answersTheBaseOffsetOfEachAppend() async throws {
        let fixture = try TemporaryTopics()
        try fixture.manager.create(name: "p", partitions: 1)
        let handler = ProduceHandler(topics: fixture.manager)

        let first = try only(await handler.respond(Self.request("p", acks: 1, records: Self.batch(3)), context: Self.context()))
        #expect(first.errorCode == 0)
        #expect(first.baseOffset == 0)
        #expect(first.logStartOffset == 0)
        #expect(first.logAppendTimeMs == -1)  // a CreateTime topic
        let second = try only(await handler.respond(Self.request("p", acks: 1, records: Self.batch(2)), context: Self.context()))
        #expect(second.errorCode == 0 && second.baseOffset == 3)
        #expect(fixture.manager.partition("p", 0)?.highWatermark == 5)
    }

    @Test func acksAll_answersOnceTheAppendIsDurable() async throws {
        let fixture = try TemporaryTopics()
        try fixture.manager.create(name: "p", partitions: 1)
        let handler = ProduceHandler(topics: fixture.manager)

        let answer = try only(await handler.respond(Self.request("p", acks: -1, records: Self.batch(4)), context: Self.context()))
        #expect(answer.errorCode == 0 && answer.baseOffset == 0)
        let log = try #require(fixture.manager.partition("p", 0))
        #expect(log.logEndOffset == 4)
        // The answer came after the fsync: the recovery point covers the append.
        #expect(log.recoveryPoint >= 4)
    }

    @Test func acksOutsideZeroOneAll_isInvalidRequiredAcks_andAppendsNothing() async throws {
        let fixture = try TemporaryTopics()
        try fixture.manager.create(name: "p", partitions: 1)
        let handler = ProduceHandler(topics: fixture.manager)

        let answer = try only(await handler.respond(Self.request("p", acks: 2), context: Self.context()))
        #expect(answer.errorCode == KafkaErrorCode.invalidRequiredAcks.rawValue)
        #expect(fixture.manager.partition("p", 0)?.logEndOffset == 0)
    }

    @Test func unknownPartitionOrTopic_isUnknownTopicOrPartition() async throws {
        let fixture = try TemporaryTopics(["auto.create.topics.enable": "true"])
        try fixture.manager.create(name: "p", partitions: 2)
        let handler = ProduceHandler(topics: fixture.manager)

        let partition = try only(await handler.respond(Self.request("p", partition: 2, acks: 1), context: Self.context()))
        #expect(partition.errorCode == KafkaErrorCode.unknownTopicOrPartition.rawValue)
        #expect(partition.index == 2 && partition.baseOffset == -1)
        let negative = try only(await handler.respond(Self.request("p", partition: -1, acks: 1), context: Self.context()))
        #expect(negative.errorCode == KafkaErrorCode.unknownTopicOrPartition.rawValue)
        // Produce does not auto-create: only Metadata does.
        let topic = try only(await handler.respond(Self.request("absent", acks: 1), context: Self.context()))
        #expect(topic.errorCode == KafkaErrorCode.unknownTopicOrPartition.rawValue)
        #expect(fixture.manager.topic(named: "absent") == nil)
    }

    @Test func emptyOrMissingRecordSet_isInvalidRecord() async throws {
        let fixture = try TemporaryTopics()
        try fixture.manager.create(name: "p", partitions: 1)
        let handler = ProduceHandler(topics: fixture.manager)

        for records in [RecordSet(bytes: ByteBuffer()), nil] {
            let answer = try only(await handler.respond(Self.request("p", acks: 1, records: records), context: Self.context()))
            #expect(answer.errorCode == KafkaErrorCode.invalidRecord.rawValue)
            #expect(answer.errorMessage != nil)
            #expect(answer.baseOffset == -1)
        }
        #expect(fixture.manager.partition("p", 0)?.logEndOffset == 0)
    }

    @Test func clientWriteToConsumerOffsets_isInvalidTopicException() async throws {
        let fixture = try TemporaryTopics()
        try fixture.manager.create(name: "__consumer_offsets", partitions: 1)
        let handler = ProduceHandler(topics: fixture.manager)

        for version: Int16 in [3, 7, 8, 11] {
            let answer = try only(await handler.respond(
                Self.request("__consumer_offsets", acks: 1), context: Self.context(version)))
            #expect(answer.errorCode == KafkaErrorCode.invalidTopicException.rawValue, "version \(version)")
            #expect((answer.errorMessage != nil) == (version >= 8), "version \(version)")
        }
        #expect(fixture.manager.partition("__consumer_offsets", 0)?.logEndOffset == 0)
    }

    @Test func errorsArePerPartition_theOtherPartitionsAppend() async throws {
        let fixture = try TemporaryTopics()
        try fixture.manager.create(name: "p", partitions: 2)
        let handler = ProduceHandler(topics: fixture.manager)
        let request = ProduceRequest(acks: 1, timeoutMs: 1000, topicData: [
            .init(name: "p", partitionData: [
                .init(index: 0, records: Self.batch(2)),
                .init(index: 7, records: Self.batch(1)),
                .init(index: 1, records: RecordSet(bytes: ByteBuffer())),
            ]),
        ])
        let response = try #require(await handler.respond(request, context: Self.context()))
        let codes = response.responses.first?.partitionResponses.map { [$0.index: $0.errorCode] }
        #expect(codes == [
            [0: 0], [7: KafkaErrorCode.unknownTopicOrPartition.rawValue], [1: KafkaErrorCode.invalidRecord.rawValue],
        ])
        #expect(fixture.manager.partition("p", 0)?.logEndOffset == 2)
        #expect(fixture.manager.partition("p", 1)?.logEndOffset == 0)
    }
}
