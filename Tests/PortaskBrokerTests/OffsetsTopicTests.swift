import Foundation
import LogEngine
import Logging
import NIOCore
import Testing
@testable import PortaskBroker

struct OffsetsTopicTests {
    @Test func commitsAndGroupsSurviveReopeningTheDataDirectory() async throws {
        let config = try TopicTests.temporaryConfig(["offsets.topic.num.partitions": "4"])
        defer { try? FileManager.default.removeItem(atPath: config.dataDirectory) }
        let timers = ManualTimers()
        do {
            let topics = try TopicManager(config: config, logger: Logger(label: "test"))
            try topics.create(name: "t", partitions: 2)
            let store = OffsetsTopic(topics: topics, partitions: 4, clock: { timers.nowMs() })
            let coordinator = GroupCoordinator(
                config: GroupCoordinatorConfig(config), timers: timers, store: store, offsetsTopic: store,
                topics: topics, logger: Logger(label: "test"))
            try coordinator.ensureOffsetsTopic()
            #expect(topics.topic(named: "__consumer_offsets")?.partitionCount == 4)
            let group = coordinator.groupCreatingIfMissing("g")
            let commit = CommittedOffset(offset: 42, leaderEpoch: 1, metadata: "meta", commitTimestamp: 5)
            #expect(await group.commit(memberId: "", groupInstanceId: nil, generationId: -1,
                                       offsets: [TopicPartition("t", 1): commit, TopicPartition("t", 0): commit]) == .noError)
            _ = await group.deleteOffsets([TopicPartition("t", 0)])
            _ = coordinator.groupCreatingIfMissing("gone")
            #expect(await coordinator.deleteGroup("gone") == .noError)
            let index = OffsetsTopic.partition(for: "g", count: 4)
            #expect((topics.partition("__consumer_offsets", index)?.logEndOffset ?? 0) >= 2)
            try topics.close()
        }
        let topics = try TopicManager(config: config, logger: Logger(label: "test"))
        defer { try? topics.close() }
        let store = OffsetsTopic(topics: topics, partitions: 50, clock: { timers.nowMs() })
        #expect(store.partitions == 4)
        let coordinator = GroupCoordinator(
            config: GroupCoordinatorConfig(config), timers: timers, store: store, offsetsTopic: store, topics: topics,
            logger: Logger(label: "test"))
        await coordinator.start()
        await coordinator.stop()
        let group = try #require(coordinator.group("g"))
        let restored = await group.committed(nil)
        #expect(restored.map(\.0) == [TopicPartition("t", 1)])
        #expect(restored.first?.1 == CommittedOffset(offset: 42, leaderEpoch: 1, metadata: "meta", commitTimestamp: 5))
        #expect(coordinator.group("gone") == nil)
    }

    @Test func consumerProtocolGroupsSurviveReopeningTheDataDirectory() async throws {
        let config = try TopicTests.temporaryConfig(["offsets.topic.num.partitions": "2"])
        defer { try? FileManager.default.removeItem(atPath: config.dataDirectory) }
        let timers = ManualTimers()
        var before: ConsumerGroupSnapshot?
        do {
            let topics = try TopicManager(config: config, logger: Logger(label: "test"))
            try topics.create(name: "t", partitions: 4)
            let store = OffsetsTopic(topics: topics, partitions: 2, clock: { timers.nowMs() })
            let coordinator = GroupCoordinator(
                config: GroupCoordinatorConfig(config), timers: timers, store: store, offsetsTopic: store,
                topics: topics, logger: Logger(label: "test"))
            var a = ConsumerGroupTests.input("a", epoch: 0, owned: [])
            a.instanceId = "i-a"
            _ = await coordinator.consumerHeartbeat(groupId: "cg", a)
            _ = await coordinator.consumerHeartbeat(groupId: "cg", ConsumerGroupTests.input("b", epoch: 0, owned: []))
            let revoke = await coordinator.consumerHeartbeat(groupId: "cg", ConsumerGroupTests.input("a", epoch: 1, topics: nil))
            #expect(revoke.assignment?.count == 2)
            _ = await coordinator.consumerHeartbeat(groupId: "gone", ConsumerGroupTests.input("x", epoch: 0, owned: []))
            _ = await coordinator.consumerHeartbeat(groupId: "gone", ConsumerGroupTests.input("x", epoch: -1))
            #expect(await coordinator.deleteGroup("gone") == .noError)
            before = await coordinator.consumerGroup("cg")?.snapshot()
            await coordinator.stop()
            try topics.close()
        }
        let topics = try TopicManager(config: config, logger: Logger(label: "test"))
        defer { try? topics.close() }
        let store = OffsetsTopic(topics: topics, partitions: 2, clock: { timers.nowMs() })
        let coordinator = GroupCoordinator(
            config: GroupCoordinatorConfig(config), timers: timers, store: store, offsetsTopic: store, topics: topics,
            logger: Logger(label: "test"))
        await coordinator.start()
        let after = try #require(await coordinator.consumerGroup("cg")?.snapshot())
        #expect(after.groupEpoch == before?.groupEpoch && after.assignmentEpoch == before?.assignmentEpoch)
        #expect(after.members.map(\.memberId) == ["a", "b"] && after.members.first?.instanceId == "i-a")
        #expect(after.members.map(\.assigned) == before?.members.map(\.assigned))
        #expect(after.members.map(\.target) == before?.members.map(\.target))
        #expect(after.members.map(\.memberEpoch) == before?.members.map(\.memberEpoch))
        #expect(coordinator.consumerGroup("gone") == nil)
        // The member carries on where it was: its revocation completes against the restored state.
        let done = await coordinator.consumerHeartbeat(
            groupId: "cg", ConsumerGroupTests.input("a", epoch: 1, owned: revoke(after), topics: nil))
        #expect(done.error == .noError && done.memberEpoch == 2)
        await coordinator.stop()
    }

    private func revoke(_ snapshot: ConsumerGroupSnapshot) -> Set<TopicPartition> {
        snapshot.members.first { $0.memberId == "a" }?.assigned ?? []
    }

    // MARK: loading skips what it cannot read

    /// A record batch whose first record's length varint is Int64.max: a valid CRC-32C, so only the record
    /// framing is wrong.
    static func batchWithHugeRecordLength() throws -> [UInt8] {
        var batch = RecordBatchEncoder().build([.init(key: Array(repeating: 7, count: 20), value: nil)])
        let huge: [UInt8] = [0xFE] + Array(repeating: 0xFF, count: 8) + [0x01]
        batch.replaceSubrange(RecordBatchHeader.size..<(RecordBatchHeader.size + huge.count), with: huge)
        let crc = batch.withUnsafeBytes { RecordBatchHeader.computeCRC(in: $0, at: 0, totalSize: batch.count) }
        batch.replaceSubrange(17..<21, with: withUnsafeBytes(of: crc.bigEndian) { Array($0) })
        return batch
    }

    static func commitRecord(_ group: String, _ offset: Int64) throws -> RecordBatchEncoder.Record {
        let record = GroupRecord.offset(
            group: group, partition: TopicPartition("t", 0), value: CommittedOffset(offset: offset, commitTimestamp: 5))
        return .init(key: Array(try record.key().readableBytesView), value: try record.value().map { Array($0.readableBytesView) })
    }

    @Test func decodeBatches_whenRecordLengthIsHuge_skipsTheBatchAndKeepsTheNext() throws {
        let good = RecordBatchEncoder().build([try Self.commitRecord("b", 2)])
        var report = OffsetsTopicLoadReport()
        let pairs = OffsetsTopic.decodeBatches(try Self.batchWithHugeRecordLength() + good, report: &report)
        #expect(try pairs.compactMap { try GroupRecord(key: $0.0, value: $0.1) }.map(\.groupId) == ["b"])
        #expect(report.skippedBatches == 1 && report.skippedRecords == 1)
        // A batch whose length cannot delimit it ends what can be read; nothing traps.
        var truncated = good
        truncated.replaceSubrange(8..<12, with: [0x7F, 0xFF, 0xFF, 0xFF])
        var second = OffsetsTopicLoadReport()
        #expect(OffsetsTopic.decodeBatches(truncated + good, report: &second).isEmpty && second.skippedBatches == 1)
    }

    @Test func load_whenOneRecordIsGarbage_restoresTheRest() async throws {
        let config = try TopicTests.temporaryConfig(["offsets.topic.num.partitions": "1"])
        defer { try? FileManager.default.removeItem(atPath: config.dataDirectory) }
        let timers = ManualTimers()
        do {
            let topics = try TopicManager(config: config, logger: Logger(label: "test"))
            try topics.create(name: "t", partitions: 1)
            let store = OffsetsTopic(topics: topics, partitions: 1, clock: { timers.nowMs() })
            let coordinator = GroupCoordinator(
                config: GroupCoordinatorConfig(config), timers: timers, store: store, offsetsTopic: store,
                topics: topics, logger: Logger(label: "test"))
            let commit = CommittedOffset(offset: 1, commitTimestamp: 5)
            #expect(await coordinator.groupCreatingIfMissing("a").commit(
                memberId: "", groupInstanceId: nil, generationId: -1, offsets: [TopicPartition("t", 0): commit]) == .noError)
            let log = try #require(topics.partition(OffsetsTopic.name, 0))
            // One batch: a garbage record (offset key, truncated value) between two good ones.
            let garbage = RecordBatchEncoder.Record(
                key: Array(try GroupRecord.offset(group: "x", partition: TopicPartition("t", 0), value: nil).key().readableBytesView),
                value: [0, 3, 0xFF])
            _ = try log.append(ByteBuffer(bytes: RecordBatchEncoder().build([
                try Self.commitRecord("b", 2), garbage, try Self.commitRecord("c", 3),
            ])))
            // A batch whose record framing is broken can no longer be appended (the append checks records);
            // decodeBatches_whenRecordLengthIsHuge_skipsTheBatchAndKeepsTheNext covers it on disk.
            #expect(throws: LogEngineError.self) {
                _ = try log.append(ByteBuffer(bytes: try Self.batchWithHugeRecordLength()), origin: .broker)
            }
            #expect(await coordinator.groupCreatingIfMissing("d").commit(
                memberId: "", groupInstanceId: nil, generationId: -1, offsets: [TopicPartition("t", 0): commit]) == .noError)
            try topics.close()
        }
        let topics = try TopicManager(config: config, logger: Logger(label: "test"))
        defer { try? topics.close() }
        let store = OffsetsTopic(topics: topics, partitions: 1, clock: { timers.nowMs() })
        var report = OffsetsTopicLoadReport()
        let records = store.loadAll(&report)
        #expect(records.map(\.groupId) == ["a", "b", "c", "d"])
        #expect(report.skippedRecords == 1 && report.skippedBatches == 0 && report.unreadablePartitions == 0)
        let coordinator = GroupCoordinator(
            config: GroupCoordinatorConfig(config), timers: timers, store: store, offsetsTopic: store, topics: topics,
            logger: Logger(label: "test"))
        await coordinator.start()
        for (group, offset) in [("a", Int64(1)), ("b", 2), ("c", 3), ("d", 1)] {
            #expect(await coordinator.group(group)?.committed([TopicPartition("t", 0)]).first?.1?.offset == offset)
        }
        #expect(coordinator.group("x") == nil)
        // The coordinator keeps working after the load.
        #expect(await coordinator.group("a")?.commit(
            memberId: "", groupInstanceId: nil, generationId: -1,
            offsets: [TopicPartition("t", 0): CommittedOffset(offset: 9, commitTimestamp: 6)]) == .noError)
        await coordinator.stop()
    }
}
