import Foundation
import KafkaProtocol
import LogEngine
import Logging
import NIOCore
import Testing
@testable import PortaskBroker

struct ShareStateTopicTests {
    typealias Stored = SharePartitionState.StoredBatch

    static func ack(_ type: SharePartitionState.AcknowledgeType) -> [Int8] { [type.rawValue] }

    @Test func storedForm_countsAnAcquisitionOnlyOnceItEnds() {
        var state = SharePartitionState(startOffset: 0, deliveryLimit: 3)
        let fresh = state
        _ = state.acquire(memberId: "a", from: 0, upTo: 4, limit: 4, nowMs: 0, lockDurationMs: 100)
        // Acquired records are stored as they were before: nothing to write.
        #expect(state.storedChanges(since: fresh).isEmpty)
        #expect(state.storedBatches.isEmpty)
        let acquired = state
        #expect(state.acknowledge(memberId: "a", firstOffset: 0, lastOffset: 0, types: Self.ack(.accept), nowMs: 0, lockDurationMs: 100) == .noError)
        #expect(state.acknowledge(memberId: "a", firstOffset: 2, lastOffset: 3, types: Self.ack(.release), nowMs: 0, lockDurationMs: 100) == .noError)
        // Offset 0 is done (the start moves past it); 2-3 are Available after one delivery; 1 is still held.
        #expect(state.startOffset == 1)
        #expect(state.storedChanges(since: acquired) == [Stored(firstOffset: 2, lastOffset: 3, deliveryState: 0, deliveryCount: 1)])
        #expect(state.storedBatches == [Stored(firstOffset: 2, lastOffset: 3, deliveryState: 0, deliveryCount: 1)])
        let released = state
        state.expireLocks(nowMs: 200)
        #expect(state.storedChanges(since: released) == [Stored(firstOffset: 1, lastOffset: 1, deliveryState: 0, deliveryCount: 1)])
    }

    @Test func update_replacesTheOffsetsItCovers_andMovesTheStart() {
        var state = SharePartitionState(
            restoring: ShareSnapshotValue(startOffset: 10, stateBatches: [
                .init(firstOffset: 10, lastOffset: 14, deliveryState: 0, deliveryCount: 1),
                .init(firstOffset: 15, lastOffset: 15, deliveryState: 4, deliveryCount: 3),
            ]), deliveryLimit: 3, maxRecordLocks: 100)
        state.apply(update: ShareUpdateValue(startOffset: 11, stateBatches: [
            .init(firstOffset: 11, lastOffset: 11, deliveryState: 2, deliveryCount: 1),
            .init(firstOffset: 13, lastOffset: 13, deliveryState: 0, deliveryCount: 2),
            // Out of order: ignored.
            .init(firstOffset: 12, lastOffset: 12, deliveryState: 2, deliveryCount: 9),
        ]))
        // 11 is Acknowledged and at the start: the start moves to 12.
        #expect(state.startOffset == 12)
        #expect(state.storedBatches == [
            Stored(firstOffset: 12, lastOffset: 12, deliveryState: 0, deliveryCount: 1),
            Stored(firstOffset: 13, lastOffset: 13, deliveryState: 0, deliveryCount: 2),
            Stored(firstOffset: 14, lastOffset: 14, deliveryState: 0, deliveryCount: 1),
            Stored(firstOffset: 15, lastOffset: 15, deliveryState: 4, deliveryCount: 3),
        ])
        // Hostile values stay within the window and do not trap.
        state.apply(update: ShareUpdateValue(startOffset: -1, stateBatches: [
            .init(firstOffset: Int64.min, lastOffset: Int64.max, deliveryState: 99, deliveryCount: -5),
        ]))
        #expect(state.startOffset == 12 && state.records.count == 100)
        #expect(state.records.allSatisfy { $0.state == .available && $0.deliveryCount == 0 })
    }

    /// The key versions of the records of one partition of `__share_group_state`, from its log start.
    static func keyVersions(_ topics: TopicManager, _ index: Int32) throws -> [Int16] {
        guard let log = topics.partition(ShareStateTopic.name, index),
              let slice = try log.read(from: log.logStartOffset, maxBytes: 1 << 20, upperBound: log.logEndOffset)
        else { return [] }
        var versions: [Int16] = []
        var report = OffsetsTopicLoadReport()
        try slice.withUnsafeBytes { raw in
            OffsetsTopic.decodeBatches(raw, report: &report) { key, _ in
                var key = key
                if let version = try? ShareSnapshotKey.readRecordVersion(from: &key) { versions.append(version) }
            }
        }
        return versions
    }

    @Test func writes_updatesBetweenSnapshots_replayed_andPrunedBelowTheLatestSnapshot() async throws {
        let config = try TopicTests.temporaryConfig()
        defer { try? FileManager.default.removeItem(atPath: config.dataDirectory) }
        let topicId: KafkaUUID
        let key: ShareStateTopic.StateKey
        let index: Int32
        var expected: SharePartitionState
        do {
            let topics = try TopicManager(config: config, logger: Logger(label: "test"))
            try topics.create(name: "t", partitions: 1)
            topicId = try #require(topics.topic(named: "t")?.id)
            let store = ShareStateTopic(topics: topics, partitions: 2, updatesPerSnapshot: 2, clock: { 0 })
            key = ShareStateTopic.StateKey(groupId: "g", topicId: topicId, partition: 0)
            index = store.index(of: key)
            var state = SharePartitionState(startOffset: 0, deliveryLimit: 3)
            var pending: [ShareStateTopic.Pending] = []
            // The first write is a snapshot; nothing stored changes on an acquisition.
            pending.append(try #require(try store.write(key, state, before: nil)))
            var before = state
            _ = state.acquire(memberId: "a", from: 0, upTo: 6, limit: 6, nowMs: 0, lockDurationMs: 100)
            #expect(try store.write(key, state, before: before) == nil)
            // Five changes: two updates, a snapshot, two updates.
            let steps: [(Int64, Int64, SharePartitionState.AcknowledgeType)] = [
                (0, 1, .accept), (2, 2, .release), (3, 3, .reject), (4, 5, .release),
            ]
            for (first, last, type) in steps {
                before = state
                #expect(state.acknowledge(memberId: "a", firstOffset: first, lastOffset: last, types: Self.ack(type), nowMs: 0, lockDurationMs: 100) == .noError)
                pending.append(try #require(try store.write(key, state, before: before)))
            }
            before = state
            _ = state.acquire(memberId: "b", from: 0, upTo: 6, limit: 1, nowMs: 0, lockDurationMs: 100)
            state.expireLocks(nowMs: 1000)
            pending.append(try #require(try store.write(key, state, before: before)))
            #expect(pending.map(\.isSnapshot) == [true, false, false, true, false, false])
            for write in pending { try await store.waitUntilDurable(write) }
            // Everything before the second snapshot was pruned.
            #expect(try Self.keyVersions(topics, index) == [0, 1, 1])
            #expect(topics.partition(ShareStateTopic.name, index)?.logStartOffset == 3)
            #expect(topics.topic(named: ShareStateTopic.name)?.configs["cleanup.policy"] == "delete")
            expected = state
            try topics.close()
        }
        let topics = try TopicManager(config: config, logger: Logger(label: "test"))
        defer { try? topics.close() }
        let store = ShareStateTopic(topics: topics, partitions: 50, updatesPerSnapshot: 2, clock: { 0 })
        var report = OffsetsTopicLoadReport()
        let loaded = store.loadAll(deliveryLimit: 3, maxRecordLocks: 2000, &report)
        #expect(report.isEmpty)
        #expect(loaded.map(\.key) == [key])
        let restored = try #require(loaded.first?.state)
        // Offset 2 was delivered twice (released, then its second lock expired), 3 archived, 4-5 released once.
        #expect(restored.startOffset == expected.startOffset && restored.startOffset == 2)
        #expect(restored.storedBatches == expected.storedBatches)
        #expect(restored.storedBatches == [
            Stored(firstOffset: 2, lastOffset: 2, deliveryState: 0, deliveryCount: 2),
            Stored(firstOffset: 3, lastOffset: 3, deliveryState: 4, deliveryCount: 1),
            Stored(firstOffset: 4, lastOffset: 5, deliveryState: 0, deliveryCount: 1),
        ])
        // The bookkeeping came back: the next change is the last update before a snapshot.
        #expect(store.progress.withLockedValue { $0[key]?.updates } == 2)
        var next = restored
        _ = next.acquire(memberId: "c", from: 2, upTo: 6, limit: 1, nowMs: 0, lockDurationMs: 100)
        let before = next
        #expect(next.acknowledge(memberId: "c", firstOffset: 2, lastOffset: 2, types: Self.ack(.accept), nowMs: 0, lockDurationMs: 100) == .noError)
        #expect(try store.write(key, next, before: before)?.isSnapshot == true)
        // A tombstone leaves nothing to load and nothing holding back pruning.
        let tombstone = try store.writeTombstone(key)
        try await store.waitUntilDurable(tombstone)
        #expect(store.loadAll(deliveryLimit: 3, maxRecordLocks: 2000, &report).isEmpty)
        #expect(topics.partition(ShareStateTopic.name, index)?.logStartOffset == tombstone.end)
    }

    @Test func aCompactedTopicOfAnEarlierVersionIsSwitchedToDelete() throws {
        let config = try TopicTests.temporaryConfig()
        defer { try? FileManager.default.removeItem(atPath: config.dataDirectory) }
        let topics = try TopicManager(config: config, logger: Logger(label: "test"))
        defer { try? topics.close() }
        // Compaction would keep only the last ShareUpdate of each share partition.
        try topics.create(name: ShareStateTopic.name, partitions: 3, configs: ["cleanup.policy": "compact", "retention.ms": "-1"])
        let store = ShareStateTopic(topics: topics, partitions: 50, clock: { 0 })
        #expect(store.partitions == 3)
        try store.ensureCreated()
        let configs = topics.topic(named: ShareStateTopic.name)?.configs ?? [:]
        #expect(configs["cleanup.policy"] == "delete" && configs["retention.ms"] == "-1")
        #expect(topics.partition(ShareStateTopic.name, 0)?.config.compact == false)
    }
}
