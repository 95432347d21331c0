import Foundation
import KafkaProtocol
import LogEngine
import NIOCore
import NIOPosix
import Testing
@testable import PortaskBroker

/// Fetch sessions (KIP-227) through the fetch handler over a real TopicManager.
struct FetchSessionTests {
    private func request(
        sessionId: Int32, epoch: Int32, partitions: [(Int32, Int64)], forgotten: [Int32] = []
    ) -> FetchRequest {
        FetchRequest(
            maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, sessionId: sessionId, sessionEpoch: epoch,
            topics: partitions.isEmpty ? [] : [
                .init(topic: "s", partitions: partitions.map { .init(partition: $0.0, fetchOffset: $0.1, partitionMaxBytes: 1 << 16) })
            ],
            forgottenTopicsData: forgotten.isEmpty ? [] : [.init(topic: "s", partitions: forgotten)])
    }

    private func answered(_ response: FetchResponse) -> [Int32: Int64] {
        var result: [Int32: Int64] = [:]
        for topic in response.responses {
            for partition in topic.partitions { result[partition.partitionIndex] = partition.highWatermark }
        }
        return result
    }

    @Test func incrementalFetches_answerOnlyChangedPartitions() async throws {
        let fixture = try TemporaryTopics()
        try fixture.manager.create(name: "s", partitions: 3)
        try fixture.produce("s", 0, count: 2)
        let group = MultiThreadedEventLoopGroup.singleton
        let handler = FetchHandler(topics: fixture.manager, waiters: FetchWaiters(timers: group), copyRecords: true)

        let full = try await handler.respond(request(sessionId: 0, epoch: 0, partitions: [(0, 0), (1, 0), (2, 0)]), version: 12)
        #expect(full.sessionId > 0)
        #expect(answered(full) == [0: 2, 1: 0, 2: 0])

        // Nothing changed and the client moved partition 0 to its end: nothing to answer.
        let quiet = try await handler.respond(request(sessionId: full.sessionId, epoch: 1, partitions: [(0, 2)]), version: 12)
        #expect(quiet.errorCode == 0 && quiet.sessionId == full.sessionId)
        #expect(answered(quiet).isEmpty)

        // New data on partition 1 only: the answer carries partition 1, read from the session's fetch offset.
        try fixture.produce("s", 1, count: 1)
        let news = try await handler.respond(request(sessionId: full.sessionId, epoch: 2, partitions: []), version: 12)
        #expect(answered(news) == [1: 1])
        #expect(news.responses.first?.partitions.first?.records?.byteCount ?? 0 > 0)

        // A forgotten partition is no longer fetched; a wrong epoch or unknown session is an error.
        try fixture.produce("s", 2, count: 1)
        let forgot = try await handler.respond(
            request(sessionId: full.sessionId, epoch: 3, partitions: [(1, 1)], forgotten: [2]), version: 12)
        #expect(answered(forgot).isEmpty)
        let stale = try await handler.respond(request(sessionId: full.sessionId, epoch: 3, partitions: []), version: 12)
        #expect(stale.errorCode == KafkaErrorCode.invalidFetchSessionEpoch.rawValue)
        let unknown = try await handler.respond(request(sessionId: 12345, epoch: 1, partitions: []), version: 12)
        #expect(unknown.errorCode == KafkaErrorCode.fetchSessionIdNotFound.rawValue)

        // Closing the session (final epoch) answers in full without a session.
        let closed = try await handler.respond(request(sessionId: full.sessionId, epoch: -1, partitions: [(2, 0)]), version: 12)
        #expect(closed.sessionId == 0 && answered(closed) == [2: 1])
        #expect(handler.sessions.count == 0)
    }

    @Test func cache_evictsTheLeastRecentlyUsedSessionWhenFull() {
        let cache = FetchSessionCache(capacity: 2)
        let key = FetchSessionCache.Key(topicId: .zero, topic: "t", partition: 0)
        let state = FetchSessionCache.PartitionState(key: key, fetchOffset: 0, maxBytes: 100)
        guard case .full(let first, _) = cache.context(sessionId: 0, epoch: 0, requested: [state], forgotten: []),
            case .full(let second, _) = cache.context(sessionId: 0, epoch: 0, requested: [state], forgotten: []),
            case .incremental = cache.context(sessionId: first, epoch: 1, requested: [], forgotten: []),
            case .full = cache.context(sessionId: 0, epoch: 0, requested: [state], forgotten: [])
        else {
            Issue.record("sessions were not created")
            return
        }
        guard case .failure(.fetchSessionIdNotFound) = cache.context(sessionId: second, epoch: 1, requested: [], forgotten: []) else {
            Issue.record("the least recently used session should have been evicted")
            return
        }
        #expect(cache.count == 2)
    }
}

/// The fetch session cache's memory bounds.
struct FetchSessionCacheBoundsTests {
    private func partitions(_ count: Int, topic: String = "t") -> [FetchSessionCache.PartitionState] {
        (0..<count).map {
            .init(key: .init(topicId: .zero, topic: topic, partition: Int32($0)), fetchOffset: 0, maxBytes: 1)
        }
    }

    @Test func fullRequest_largerThanASession_isServedSessionless() {
        let cache = FetchSessionCache(maximumSessionPartitions: 10, maximumTotalPartitions: 100)
        guard case .sessionless = cache.context(sessionId: 0, epoch: 0, requested: partitions(11), forgotten: []) else {
            Issue.record("an oversized session was created")
            return
        }
        #expect(cache.count == 0 && cache.totalPartitions == 0)
    }

    @Test func newSessions_evictTheLeastRecentlyUsed_toStayWithinTheTotal() {
        let cache = FetchSessionCache(maximumSessionPartitions: 10, maximumTotalPartitions: 25)
        for index in 0..<5 {
            _ = cache.context(sessionId: 0, epoch: 0, requested: partitions(10, topic: "t\(index)"), forgotten: [])
        }
        #expect(cache.totalPartitions <= 25)
        #expect(cache.count == 2)
    }

    @Test func incrementalGrowthPastTheBound_endsTheSession() {
        let cache = FetchSessionCache(maximumSessionPartitions: 10, maximumTotalPartitions: 100)
        guard case .full(let id, _) = cache.context(sessionId: 0, epoch: 0, requested: partitions(5), forgotten: []) else {
            Issue.record("no session")
            return
        }
        let more = partitions(12, topic: "u")
        guard case .failure(let code) = cache.context(sessionId: id, epoch: 1, requested: more, forgotten: []) else {
            Issue.record("the session grew past its bound")
            return
        }
        #expect(code == .fetchSessionIdNotFound)
        #expect(cache.count == 0 && cache.totalPartitions == 0)
    }

    @Test func forgettingManyPartitions_takesLinearTime() {
        let cache = FetchSessionCache(maximumSessionPartitions: 50_000, maximumTotalPartitions: 100_000)
        let all = partitions(40_000)
        guard case .full(let id, _) = cache.context(sessionId: 0, epoch: 0, requested: all, forgotten: []) else {
            Issue.record("no session")
            return
        }
        let started = ContinuousClock.now
        _ = cache.context(sessionId: id, epoch: 1, requested: [], forgotten: all.map(\.key))
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(cache.totalPartitions == 0)
    }
}

/// Parked fetches end when their task is cancelled (their connection closed), and leave nothing behind.
struct FetchWaitersCancellationTests {
    @Test func cancelledWait_returnsAtOnce_andUnregisters() async {
        let waiters = FetchWaiters(timers: MultiThreadedEventLoopGroup.singleton)
        let task = Task {
            await waiters.wait(for: [TopicPartition("p", 0)], timeout: .hours(24 * 24)) { true }
        }
        while waiters.parkedCount == 0 { await Task.yield() }
        task.cancel()
        await task.value
        #expect(waiters.parkedCount == 0)
    }
}

/// Every append wakes parked fetches, whoever writes it: the one notification path.
struct FetchWakeUpTests {
    @Test(.timeLimit(.minutes(5)))
    func appendThatBypassesProduce_wakesAParkedFetch() async throws {
        let fixture = try TemporaryTopics()
        try fixture.manager.create(name: "w", partitions: 1)
        let handler = FetchHandler(
            topics: fixture.manager, waiters: FetchWaiters(timers: MultiThreadedEventLoopGroup.singleton),
            copyRecords: true)
        let request = FetchRequest(
            maxWaitMs: 1_800_000, minBytes: 1, maxBytes: 1 << 20,
            topics: [.init(topic: "w", partitions: [.init(partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 16)])])
        let started = ContinuousClock.now
        async let answer = handler.respond(request, version: 4)
        try await Task.sleep(for: .milliseconds(200))
        // Written straight to the log, as the group coordinator writes __consumer_offsets.
        try fixture.produce("w", 0, count: 1)
        let response = try await answer
        // Woken by the append, not by its 30-minute deadline (the bound is loose: the suite runs in parallel).
        #expect(ContinuousClock.now - started < .seconds(180))
        #expect(response.responses.first?.partitions.first?.highWatermark == 1)
    }
}
