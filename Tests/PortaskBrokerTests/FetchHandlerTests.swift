import Foundation
import KafkaProtocol
import LogEngine
import NIOCore
import NIOPosix
import Testing
@testable import PortaskBroker

/// Fetch (key 1) through `FetchHandler` over a real TopicManager: offsets out of range, and the byte limits
/// (`partitionMaxBytes`, `maxBytes`, the broker's `fetch.max.bytes`) with the first batch returned whole.
struct FetchHandlerTests {
    static let version: Int16 = 12
    static let valueSize = 1000
    /// The stored size of one of the fixture's one-record batches.
    static let batchBytes = RecordBatchEncoder(baseTimestamp: 1_700_000_000_000).build(count: 1) { _ in
        Array(repeating: 0, count: valueSize)
    }.count

    private func makeHandler(_ fixture: TemporaryTopics, maximumResponseBytes: Int? = nil) -> FetchHandler {
        var handler = FetchHandler(
            topics: fixture.manager, waiters: FetchWaiters(timers: MultiThreadedEventLoopGroup.singleton),
            copyRecords: true)
        if let maximumResponseBytes { handler.maximumResponseBytes = maximumResponseBytes }
        return handler
    }

    /// A sessionless fetch that does not wait.
    private func request(
        _ partitions: [(partition: Int32, offset: Int64)], maxBytes: Int32 = 1 << 20, partitionMaxBytes: Int32 = 1 << 20
    ) -> FetchRequest {
        FetchRequest(maxWaitMs: 0, minBytes: 0, maxBytes: maxBytes, topics: [
            .init(topic: "f", partitions: partitions.map {
                .init(partition: $0.partition, fetchOffset: $0.offset, partitionMaxBytes: partitionMaxBytes)
            }),
        ])
    }

    private func partitions(_ response: FetchResponse) -> [FetchResponse.PartitionData] {
        response.responses.flatMap(\.partitions)
    }

    private func byteCount(_ partition: FetchResponse.PartitionData) -> Int {
        partition.records?.byteCount ?? 0
    }

    @Test func fetchOutsideTheLog_isOffsetOutOfRange_withTheLogStartAndEnd() async throws {
        let fixture = try TemporaryTopics()
        try fixture.manager.create(name: "f", partitions: 1)
        try fixture.produce("f", count: 5)
        let log = try #require(fixture.manager.partition("f", 0))
        #expect(try log.deleteRecords(before: 2) == 2)
        let handler = makeHandler(fixture)

        for offset: Int64 in [0, 1, 6, 1_000, -1] {
            let answer = try #require(partitions(try await handler.respond(request([(0, offset)]), version: Self.version)).first)
            #expect(answer.errorCode == KafkaErrorCode.offsetOutOfRange.rawValue, "offset \(offset)")
            #expect(answer.logStartOffset == 2, "offset \(offset)")
            #expect(answer.highWatermark == 5, "offset \(offset)")
            #expect(byteCount(answer) == 0, "offset \(offset)")
        }
        // The bounds themselves are in range: the log start reads, the log end answers empty.
        let start = try #require(partitions(try await handler.respond(request([(0, 2)]), version: Self.version)).first)
        #expect(start.errorCode == 0 && byteCount(start) > 0)
        let end = try #require(partitions(try await handler.respond(request([(0, 5)]), version: Self.version)).first)
        #expect(end.errorCode == 0 && byteCount(end) == 0 && end.highWatermark == 5)
    }

    @Test func unknownPartition_isUnknownTopicOrPartition() async throws {
        let fixture = try TemporaryTopics()
        try fixture.manager.create(name: "f", partitions: 1)
        let answer = try #require(partitions(try await makeHandler(fixture).respond(request([(3, 0)]), version: Self.version)).first)
        #expect(answer.errorCode == KafkaErrorCode.unknownTopicOrPartition.rawValue)
        #expect(answer.highWatermark == -1)
    }

    @Test func partitionMaxBytes_isHonoured_withTheFirstBatchWhole() async throws {
        let fixture = try TemporaryTopics()
        try fixture.manager.create(name: "f", partitions: 1)
        try fixture.produce("f", count: 5, valueSize: Self.valueSize)
        let handler = makeHandler(fixture)

        // Room for two and a half batches: two whole batches, never a partial one.
        let two = try #require(partitions(try await handler.respond(
            request([(0, 0)], partitionMaxBytes: Int32(Self.batchBytes * 5 / 2)), version: Self.version)).first)
        #expect(byteCount(two) == 2 * Self.batchBytes)
        // Room for less than one batch: the first batch whole, so the consumer always progresses.
        let one = try #require(partitions(try await handler.respond(
            request([(0, 0)], partitionMaxBytes: 10), version: Self.version)).first)
        #expect(byteCount(one) == Self.batchBytes)
    }

    @Test func maxBytes_limitsTheResponse_withTheFirstBatchOfTheFirstPartitionWhole() async throws {
        let fixture = try TemporaryTopics()
        try fixture.manager.create(name: "f", partitions: 3)
        for partition: Int32 in 0..<3 { try fixture.produce("f", partition, count: 3, valueSize: Self.valueSize) }
        let handler = makeHandler(fixture)
        let all: [(partition: Int32, offset: Int64)] = [(0, 0), (1, 0), (2, 0)]

        // Four and a half batches across the response: three from partition 0, one from partition 1.
        let spread = partitions(try await handler.respond(
            request(all, maxBytes: Int32(Self.batchBytes * 9 / 2)), version: Self.version))
        #expect(spread.map(byteCount) == [3 * Self.batchBytes, Self.batchBytes, 0])
        #expect(spread.allSatisfy { $0.errorCode == 0 && $0.highWatermark == 3 })

        // Less than one batch: the first partition's first batch whole, nothing else.
        let tiny = partitions(try await handler.respond(request(all, maxBytes: 1), version: Self.version))
        #expect(tiny.map(byteCount) == [Self.batchBytes, 0, 0])

        // An empty first partition does not use up the first-batch allowance.
        let skipping = partitions(try await handler.respond(
            request([(0, 3), (1, 0), (2, 0)], maxBytes: 1), version: Self.version))
        #expect(skipping.map(byteCount) == [0, Self.batchBytes, 0])
    }

    @Test func fetchMaxBytes_capsWhatTheRequestAsks_withTheFirstBatchWhole() async throws {
        let fixture = try TemporaryTopics()
        try fixture.manager.create(name: "f", partitions: 2)
        for partition: Int32 in 0..<2 { try fixture.produce("f", partition, count: 4, valueSize: Self.valueSize) }
        let all: [(partition: Int32, offset: Int64)] = [(0, 0), (1, 0)]

        // The request asks for far more than the broker's cap of two and a half batches.
        let capped = makeHandler(fixture, maximumResponseBytes: Self.batchBytes * 5 / 2)
        let answer = partitions(try await capped.respond(request(all, maxBytes: Int32.max), version: Self.version))
        #expect(answer.map(byteCount) == [2 * Self.batchBytes, 0])

        // The request's own smaller limit still applies under the cap.
        let smaller = partitions(try await capped.respond(
            request(all, maxBytes: Int32(Self.batchBytes)), version: Self.version))
        #expect(smaller.map(byteCount) == [Self.batchBytes, 0])

        // A cap below one batch: still the first batch whole.
        let tiny = makeHandler(fixture, maximumResponseBytes: 1)
        let first = partitions(try await tiny.respond(request(all, maxBytes: Int32.max), version: Self.version))
        #expect(first.map(byteCount) == [Self.batchBytes, 0])
    }
}
