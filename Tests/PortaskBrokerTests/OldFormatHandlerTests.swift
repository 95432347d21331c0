import Foundation
import KafkaProtocol
import LogEngine
import Logging
import NIOCore
import NIOPosix
import Testing
@testable import PortaskBroker

/// Produce v0–v2 and Fetch v0–v3 through the handlers over a real TopicManager.
struct OldFormatHandlerTests {
    static func records(_ tag: String, from offset: Int64 = 0) -> [DecodedRecord] {
        (0..<3).map { i in
            DecodedRecord(
                offset: offset + Int64(i), timestamp: 1_700_000_000_000 + Int64(i), key: Array("k\(i)".utf8),
                value: Array("\(tag)-\(i)".utf8))
        }
    }

    private func withHandlers(
        _ body: (ProduceHandler, FetchHandler, TopicManager) async throws -> Void
    ) async throws {
        let config = try TopicTests.temporaryConfig()
        defer { try? FileManager.default.removeItem(atPath: config.dataDirectory) }
        let topics = try TopicManager(config: config, logger: Logger(label: "test"))
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let waiters = FetchWaiters(timers: group)
        try topics.create(name: "old", partitions: 1)
        try await body(ProduceHandler(topics: topics), FetchHandler(topics: topics, waiters: waiters), topics)
        try topics.close()
        try await group.shutdownGracefully()
    }

    private func produce(_ handler: ProduceHandler, _ bytes: [UInt8], version: Int16) async throws
        -> ProduceResponse.PartitionProduceResponse
    {
        let request = ProduceRequest(acks: 1, timeoutMs: 1000, topicData: [
            .init(name: "old", partitionData: [.init(index: 0, records: RecordSet(bytes: ByteBuffer(bytes: bytes)))]),
        ])
        let context = RequestContext(apiKey: .produce, apiVersion: version, correlationId: 1, clientId: "test")
        let response = try #require(try await handler.respond(request, context: context))
        return try #require(response.responses.first?.partitionResponses.first)
    }

    private func fetch(_ handler: FetchHandler, from offset: Int64, version: Int16, maxBytes: Int32 = 1 << 20)
        async throws -> FetchResponse.PartitionData
    {
        let request = FetchRequest(maxWaitMs: 0, minBytes: 0, topics: [
            .init(topic: "old", partitions: [.init(fetchOffset: offset, partitionMaxBytes: maxBytes)]),
        ])
        let response = try await handler.respond(request, version: version)
        return try #require(response.responses.first?.partitions.first)
    }

    private func bytes(_ records: RecordSet?) throws -> [UInt8] {
        let buffer = try #require(records?.bytes)
        return Array(buffer.readableBytesView)
    }

    @Test func produceOldFormats_assignsOffsetsAndFetchReturnsEachFormat() async throws {
        try await withHandlers { produce, fetch, topics in
            let v0 = try await self.produce(produce, LegacyMessageSet.encode(Self.records("a"), magic: 0), version: 0)
            #expect(v0.errorCode == 0 && v0.baseOffset == 0)
            let wrapped = try LegacyMessageSet.encodeCompressed(Self.records("b"), magic: 1, compression: .snappy)
            let v2 = try await self.produce(produce, wrapped, version: 2)
            #expect(v2.errorCode == 0 && v2.baseOffset == 3)
            #expect(topics.partition("old", 0)?.logEndOffset == 6)

            let magicZero = try await self.fetch(fetch, from: 1, version: 0)
            #expect(magicZero.errorCode == 0 && magicZero.highWatermark == 6)
            let zero = try self.bytes(magicZero.records).withUnsafeBytes { try LegacyMessageSet.decode($0) }
            #expect(zero.magic == 0)
            #expect(zero.records.map(\.offset) == [1, 2, 3, 4, 5])
            #expect(zero.records.allSatisfy { $0.timestamp == -1 })

            let magicOne = try await self.fetch(fetch, from: 0, version: 3)
            let one = try self.bytes(magicOne.records).withUnsafeBytes { try LegacyMessageSet.decode($0) }
            #expect(one.magic == 1 && one.compression == .none)
            #expect(one.records == Self.records("a").map { var r = $0; r.timestamp = -1; return r } + Self.records("b", from: 3))

            // Fetch v4+ still returns the stored batches v2 as a file region.
            let current = try await self.fetch(fetch, from: 0, version: 4)
            #expect(current.records?.bytes == nil)
            #expect((current.records?.byteCount ?? 0) > 0)
            #expect(current.records?.retained.count == 1)  // the region's owner, released with the response
        }
    }

    @Test func fetchOldFormat_honoursThePartitionLimitButReturnsOneMessage() async throws {
        try await withHandlers { produce, fetch, _ in
            _ = try await self.produce(produce, LegacyMessageSet.encode(Self.records("a"), magic: 1), version: 2)
            let limited = try await self.fetch(fetch, from: 0, version: 2, maxBytes: 10)
            let decoded = try self.bytes(limited.records).withUnsafeBytes { try LegacyMessageSet.decode($0) }
            #expect(decoded.records.map(\.offset) == [0])
        }
    }

    @Test func produceOldFormat_reportsCorruptMessagesPerPartition() async throws {
        try await withHandlers { produce, _, topics in
            var bytes = LegacyMessageSet.encode(Self.records("a"), magic: 1)
            bytes[20] ^= 0x01
            let response = try await self.produce(produce, bytes, version: 1)
            #expect(response.errorCode == KafkaErrorCode.corruptMessage.rawValue)
            let batch = try RecordBatchEncoder.encode(Self.records("a"), compression: .none)
            let v3 = try await self.produce(produce, LegacyMessageSet.encode(Self.records("a"), magic: 1), version: 3)
            #expect(v3.errorCode == KafkaErrorCode.invalidRecord.rawValue)
            #expect(try await self.produce(produce, batch, version: 3).errorCode == 0)
            #expect(topics.partition("old", 0)?.logEndOffset == 3)
        }
    }
}
