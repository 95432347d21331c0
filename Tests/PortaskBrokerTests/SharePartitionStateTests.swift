import Foundation
import KafkaProtocol
import LogEngine
import Logging
import NIOConcurrencyHelpers
import Testing
@testable import PortaskBroker

struct SharePartitionStateTests {
    typealias Range = SharePartitionState.AcquiredRange

    static func ack(_ type: SharePartitionState.AcknowledgeType) -> [Int8] { [type.rawValue] }

    @Test func acquire_givesDisjointRecordsToMembers() {
        var state = SharePartitionState(startOffset: 10)
        #expect(state.acquire(memberId: "a", from: 10, upTo: 20, limit: 4, nowMs: 0, lockDurationMs: 1000)
            == [Range(firstOffset: 10, lastOffset: 13, deliveryCount: 1)])
        #expect(state.nextAcquirableOffset == 14)
        #expect(state.acquire(memberId: "b", from: 10, upTo: 20, limit: 100, nowMs: 0, lockDurationMs: 1000)
            == [Range(firstOffset: 14, lastOffset: 19, deliveryCount: 1)])
        #expect(state.acquiredCount == 10 && state.endOffset == 20)
    }

    @Test func acquire_finishesTheBatchInWhichTheLimitIsReached() {
        var state = SharePartitionState(startOffset: 0)
        // Stored batches 0-4, 5-9, 10-14: a limit of 7 reached at offset 6 acquires through 9.
        let batches: [Int64] = [4, 9, 14]
        #expect(state.acquire(
            memberId: "a", from: 0, upTo: 15, limit: 7, nowMs: 0, lockDurationMs: 1000, batchLastOffsets: batches)
            == [Range(firstOffset: 0, lastOffset: 9, deliveryCount: 1)])
        #expect(state.acquire(
            memberId: "b", from: 10, upTo: 15, limit: 1, nowMs: 0, lockDurationMs: 1000, batchLastOffsets: batches)
            == [Range(firstOffset: 10, lastOffset: 14, deliveryCount: 1)])
        #expect(state.nextAcquirableOffset == 15)
    }

    @Test func accept_advancesTheStartOffset_andOnlyTheHolderMayAcknowledge() {
        var state = SharePartitionState(startOffset: 0)
        _ = state.acquire(memberId: "a", from: 0, upTo: 5, limit: 5, nowMs: 0, lockDurationMs: 1000)
        #expect(state.acknowledge(memberId: "b", firstOffset: 0, lastOffset: 1, types: Self.ack(.accept), nowMs: 0, lockDurationMs: 1000)
            == .invalidRecordState)
        #expect(state.acknowledge(memberId: "a", firstOffset: 2, lastOffset: 4, types: Self.ack(.accept), nowMs: 0, lockDurationMs: 1000)
            == .noError)
        #expect(state.startOffset == 0)
        #expect(state.acknowledge(memberId: "a", firstOffset: 0, lastOffset: 1, types: [1, 3], nowMs: 0, lockDurationMs: 1000)
            == .noError)
        #expect(state.startOffset == 5 && state.records.isEmpty)
        // Acknowledged again, or outside the range: INVALID_RECORD_STATE; malformed: INVALID_REQUEST.
        #expect(state.acknowledge(memberId: "a", firstOffset: 0, lastOffset: 0, types: Self.ack(.accept), nowMs: 0, lockDurationMs: 1000)
            == .invalidRecordState)
        #expect(state.acknowledge(memberId: "a", firstOffset: 5, lastOffset: 4, types: Self.ack(.accept), nowMs: 0, lockDurationMs: 1000)
            == .invalidRequest)
        #expect(state.acknowledge(memberId: "a", firstOffset: Int64.min, lastOffset: Int64.max, types: [1, 1], nowMs: 0, lockDurationMs: 1000)
            == .invalidRecordState)
    }

    @Test func release_redelivers_andTheDeliveryLimitArchives() {
        var state = SharePartitionState(startOffset: 0, deliveryLimit: 2)
        _ = state.acquire(memberId: "a", from: 0, upTo: 2, limit: 10, nowMs: 0, lockDurationMs: 1000)
        #expect(state.acknowledge(memberId: "a", firstOffset: 0, lastOffset: 1, types: Self.ack(.release), nowMs: 0, lockDurationMs: 1000)
            == .noError)
        #expect(state.nextAcquirableOffset == 0)
        #expect(state.acquire(memberId: "b", from: 0, upTo: 2, limit: 10, nowMs: 0, lockDurationMs: 1000)
            == [Range(firstOffset: 0, lastOffset: 1, deliveryCount: 2)])
        #expect(state.redeliveries == 2)
        // The second release reaches the limit of 2 deliveries: archived, never delivered again.
        #expect(state.acknowledge(memberId: "b", firstOffset: 0, lastOffset: 1, types: Self.ack(.release), nowMs: 0, lockDurationMs: 1000)
            == .noError)
        #expect(state.startOffset == 2 && state.archivedAtLimit == 2)
    }

    @Test func reject_archives_andExpiredLocksMakeRecordsAvailable() {
        var state = SharePartitionState(startOffset: 0)
        _ = state.acquire(memberId: "a", from: 0, upTo: 3, limit: 10, nowMs: 0, lockDurationMs: 1000)
        #expect(state.acknowledge(memberId: "a", firstOffset: 0, lastOffset: 0, types: Self.ack(.reject), nowMs: 0, lockDurationMs: 1000)
            == .noError)
        #expect(state.startOffset == 1)
        #expect(state.nextLockDeadlineMs == 1000)
        state.expireLocks(nowMs: 999)
        #expect(state.acquiredCount == 2)
        // RENEW extends the lock of offset 1 only.
        #expect(state.acknowledge(memberId: "a", firstOffset: 1, lastOffset: 1, types: Self.ack(.renew), nowMs: 500, lockDurationMs: 1000)
            == .noError)
        state.expireLocks(nowMs: 1000)
        #expect(state.record(at: 1)?.state == .acquired && state.record(at: 2)?.state == .available)
        #expect(state.acquire(memberId: "b", from: 2, upTo: 3, limit: 10, nowMs: 1000, lockDurationMs: 1000)
            == [Range(firstOffset: 2, lastOffset: 2, deliveryCount: 2)])
    }

    @Test func inFlightRecords_areBoundedByTheRecordLocks() {
        var state = SharePartitionState(startOffset: 0, maxRecordLocks: 3)
        #expect(state.acquire(memberId: "a", from: 0, upTo: 100, limit: 100, nowMs: 0, lockDurationMs: 1000).first?.lastOffset == 2)
        #expect(state.nextAcquirableOffset == nil)
        state.releaseAll(memberId: "a")
        #expect(state.nextAcquirableOffset == 0)
        state.trim(toLogStart: 2)
        #expect(state.startOffset == 2 && state.records.count == 1)
        state.trim(toLogStart: 50)
        #expect(state.startOffset == 50 && state.records.isEmpty && state.nextAcquirableOffset == 50)
    }

    @Test func shareSessions_checkEpochsAndBounds() {
        let cache = ShareSessionCache(maxSessions: 1)
        let a = ShareSessionCache.Key(groupId: "g", memberId: "a")
        let p0 = ShareSessionCache.Partition(topicId: KafkaUUID.random(), partition: 0)
        #expect(cache.fetch(a, epoch: 1, added: [], forgotten: []) == .failure(.shareSessionNotFound))
        #expect(cache.fetch(a, epoch: 0, added: [p0], forgotten: []) == .success([p0]))
        #expect(cache.fetch(.init(groupId: "g", memberId: "b"), epoch: 0, added: [], forgotten: []) == .failure(.shareSessionLimitReached))
        #expect(cache.fetch(a, epoch: 2, added: [], forgotten: []) == .failure(.invalidShareSessionEpoch))
        #expect(cache.fetch(a, epoch: 1, added: [], forgotten: [p0]) == .success([]))
        #expect(cache.acknowledge(a, epoch: 0) == .invalidShareSessionEpoch)
        #expect(cache.acknowledge(a, epoch: 2) == .noError)
        #expect(cache.fetch(a, epoch: 3, added: [p0, p0], forgotten: []) == .success([p0]))
        #expect(ShareSessionCache.next(Int32.max) == 1)
        cache.remove(a)
        #expect(cache.count == 0)
    }

    @Test func shareGroup_givesEveryMemberEveryPartition_andExpiresSessions() async throws {
        let config = try TopicTests.temporaryConfig()
        defer { try? FileManager.default.removeItem(atPath: config.dataDirectory) }
        let topics = try TopicManager(config: config, logger: Logger(label: "test"))
        try topics.create(name: "t", partitions: 2)
        let timers = ManualTimers()
        let removed = NIOLockedBox()
        let group = ShareGroup(groupId: "g", timers: timers, topics: topics, sessionTimeoutMs: 6000, maxSize: 2) {
            removed.append($0)
        }
        func input(_ id: String, _ epoch: Int32, _ names: [String]? = ["t"]) -> ShareHeartbeatInput {
            ShareHeartbeatInput(memberId: id, memberEpoch: epoch, subscribedTopicNames: names, clientId: "c", clientHost: "/h")
        }
        let a = await group.heartbeat(input("a", 0))
        #expect(a.memberEpoch == 1 && a.assignment?.count == 2)
        let b = await group.heartbeat(input("b", 0))
        #expect(b.memberEpoch == 2 && b.assignment?.count == 2)
        #expect(await group.heartbeat(input("c", 0)).error == .groupMaxSizeReached)
        #expect(await group.heartbeat(input("a", 5, nil)).error == .fencedMemberEpoch)
        let a2 = await group.heartbeat(input("a", 1, nil))
        #expect(a2.memberEpoch == 2 && a2.assignment == a.assignment)
        await timers.advance(by: 4000)
        _ = await group.heartbeat(input("a", 2, nil))
        await timers.advance(by: 3000)
        #expect(removed.values == ["b"])
        #expect(await group.heartbeat(input("a", -1, nil)).memberEpoch == -1)
        #expect(await group.state == "Empty")
        #expect(await group.markDeleted())
    }
}

/// Collects strings from a Sendable closure.
private final class NIOLockedBox: Sendable {
    private let box = NIOLockedValueBox<[String]>([])
    func append(_ value: String) { box.withLockedValue { $0.append(value) } }
    var values: [String] { box.withLockedValue { $0 } }
}
