import KafkaProtocol
import LogEngine
import NIOCore
import Testing
@testable import PortaskBroker

struct GroupRecordTests {
    @Test func partitionFor_usesJavaStringHashCode() {
        #expect(OffsetsTopic.partition(for: "test-group", count: 50) == 12)
        #expect(OffsetsTopic.partition(for: "my-group", count: 50) == 12)
        #expect(OffsetsTopic.partition(for: "g1", count: 50) == 42)
        #expect(OffsetsTopic.partition(for: "", count: 50) == 0)
    }

    @Test func offsetCommit_encodesKafkaLayouts() throws {
        let record = GroupRecord.offset(
            group: "g", partition: TopicPartition("t", 2),
            value: CommittedOffset(offset: 7, leaderEpoch: 3, metadata: "m", commitTimestamp: 9))
        #expect(Array(try record.key().readableBytesView) == [0, 1, 0, 1, 0x67, 0, 1, 0x74, 0, 0, 0, 2])
        let value = try #require(try record.value())
        #expect(Array(value.readableBytesView) ==
            [0, 3, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 3, 0, 1, 0x6D, 0, 0, 0, 0, 0, 0, 0, 9])
        #expect(try GroupRecord(key: record.key(), value: value) == record)
        let tombstone = GroupRecord.offset(group: "g", partition: TopicPartition("t", 2), value: nil)
        #expect(try GroupRecord(key: tombstone.key(), value: nil) == tombstone)
    }

    @Test func groupMetadata_roundTripsThroughBatches() throws {
        let group = StoredGroup(
            protocolType: "consumer", generation: 4, protocolName: "range", leader: "m-1", stateTimestamp: 11,
            members: [.init(memberId: "m-1", groupInstanceId: "i", clientId: "c", clientHost: "/127.0.0.1",
                            rebalanceTimeoutMs: 300, sessionTimeoutMs: 100, subscription: ByteBuffer(bytes: [1, 2]),
                            assignment: ByteBuffer(bytes: [3]))])
        let records: [GroupRecord] = [.metadata(group: "g", value: group), .metadata(group: "g", value: nil)]
        let batch = RecordBatchEncoder().build(try records.map {
            .init(key: Array(try $0.key().readableBytesView), value: try $0.value().map { Array($0.readableBytesView) })
        })
        var report = OffsetsTopicLoadReport()
        let decoded = try OffsetsTopic.decodeBatches(batch, report: &report).compactMap { try GroupRecord(key: $0.0, value: $0.1) }
        #expect(decoded == records && report.isEmpty)
    }

    @Test func malformedValues_areErrorsNotCrashes() throws {
        let key = try GroupRecord.metadata(group: "g", value: nil).key()
        #expect(throws: BrokerError.self) { try GroupRecord(key: key, value: ByteBuffer(bytes: [0, 3, 0, 200])) }
        #expect(throws: BrokerError.self) { try GroupRecord(key: ByteBuffer(bytes: [0]), value: nil) }
        #expect(try GroupRecord(key: ByteBuffer(bytes: [0, 9, 0, 0]), value: nil) == nil)
    }

    @Test func consumerGroupRecords_useKafkaFlexibleLayouts() throws {
        let epoch = GroupRecord.consumer(.groupEpoch(group: "g", epoch: 5))
        #expect(Array(try epoch.key().readableBytesView) == [0, 3, 0, 1, 0x67])
        #expect(Array(try #require(try epoch.value()).readableBytesView) == [0, 0, 0, 0, 0, 5, 0])
        let target = GroupRecord.consumer(.target(group: "g", memberId: "m", [
            .init(topicId: KafkaUUID(high: 1, low: 2), partitions: [0, 3]),
        ]))
        #expect(Array(try target.key().readableBytesView) == [0, 7, 0, 1, 0x67, 0, 1, 0x6D])
        #expect(Array(try #require(try target.value()).readableBytesView) ==
            [0, 0, 2] + [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2] + [3, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0])
        let member = GroupRecord.consumer(.member(group: "g", memberId: "m", .init(
            instanceId: nil, rackId: "r", clientId: "c", clientHost: "/h", subscribedTopicNames: ["t", "u"],
            subscribedTopicRegex: nil, rebalanceTimeoutMs: 300, serverAssignor: "uniform")))
        let current = GroupRecord.consumer(.current(group: "g", memberId: "m", .init(
            memberEpoch: 4, previousMemberEpoch: 3, state: 2, assigned: [], pendingRevocation: [
                .init(topicId: KafkaUUID(high: 7, low: 8), partitions: [1]),
            ])))
        for record in [epoch, target, member, current] {
            #expect(try GroupRecord(key: record.key(), value: record.value()) == record)
        }
        let tombstone = GroupRecord.consumer(.member(group: "g", memberId: "m", nil))
        #expect(try GroupRecord(key: tombstone.key(), value: nil) == tombstone)
    }
}

struct GroupRecordBoundsTests {
    static let long = String(repeating: "x", count: Int(Int16.max) + 1)

    @Test func encoding_whenAStringIsTooLong_throwsInsteadOfClamping() {
        let offset = GroupRecord.offset(group: Self.long, partition: TopicPartition("t", 0), value: nil)
        #expect(throws: BrokerError.self) { try offset.key() }
        let metadata = GroupRecord.metadata(group: "g", value: StoredGroup(
            protocolType: "consumer", generation: 1, protocolName: Self.long, leader: nil))
        #expect(throws: BrokerError.self) { try metadata.value() }
        let member = GroupRecord.consumer(.member(group: "g", memberId: "m", .init(
            instanceId: nil, rackId: nil, clientId: Self.long, clientHost: "/h", subscribedTopicNames: [],
            subscribedTopicRegex: nil, rebalanceTimeoutMs: 1, serverAssignor: nil)))
        #expect(throws: BrokerError.self) { try member.value() }
    }

    @Test func decoding_readsFlexibleOffsetCommitValues() throws {
        let key = try GroupRecord.offset(group: "g", partition: TopicPartition("t", 2), value: nil).key()
        let value = ByteBuffer(bytes: [0, 4, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 3, 2, 0x6D, 0, 0, 0, 0, 0, 0, 0, 9, 0])
        #expect(try GroupRecord(key: key, value: value) == .offset(
            group: "g", partition: TopicPartition("t", 2),
            value: CommittedOffset(offset: 7, leaderEpoch: 3, metadata: "m", commitTimestamp: 9)))
    }

    @Test func decoding_whenAConsumerValueVersionIsUnknown_isAnError() throws {
        let key = try GroupRecord.consumer(.groupEpoch(group: "g", epoch: nil)).key()
        #expect(throws: BrokerError.self) { try GroupRecord(key: key, value: ByteBuffer(bytes: [0, 1, 0, 0, 0, 5, 0])) }
    }
}
