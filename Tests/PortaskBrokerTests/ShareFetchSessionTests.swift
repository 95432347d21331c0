import Foundation
import KafkaProtocol
import LogEngine
import Logging
import NIOCore
import Testing
@testable import PortaskBroker

/// ShareFetch through the broker's router: `BatchSize` cuts the acquired records into entries of that size, and a
/// closed connection ends the share sessions it opened and releases their records at once.
struct ShareFetchSessionTests {
    private func answer<Response: KafkaResponseMessage>(
        _ router: RequestRouter, _ body: some KafkaRequestMessage, as _: Response.Type, version: Int16,
        connectionId: UInt64
    ) async throws -> Response {
        let apiKey = type(of: body).apiKey
        let handler = try #require(router.handler(for: apiKey))
        let request = KafkaRequest(
            header: RequestHeader(apiKey: apiKey.rawValue, apiVersion: version, correlationId: 1, clientId: "t"),
            apiKey: apiKey, body: body)
        let context = RequestContext(
            apiKey: apiKey, apiVersion: version, correlationId: 1, clientId: "t", connectionId: connectionId,
            clientAddress: "127.0.0.1:1")
        let encoded = try #require(try await handler.respond(request, context)())
        // The record data goes out as file regions: read them back to decode the whole frame.
        var frame = ByteBuffer()
        for part in encoded.parts {
            switch part {
            case .byteBuffer(var buffer): frame.writeBuffer(&buffer)
            case .fileRegion(let region):
                var bytes = [UInt8](repeating: 0, count: region.readableBytes)
                let read = try region.fileHandle.withUnsafeFileDescriptor { descriptor in
                    bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, off_t(region.readerIndex)) }
                }
                #expect(read == bytes.count)
                frame.writeBytes(bytes)
            }
        }
        frame.moveReaderIndex(forwardBy: 4)
        return try KafkaResponseFrame.decode(Response.self, frame: frame, version: version).body
    }

    @Test func batchSize_cutsAcquiredRecords_andAClosedConnectionReleasesThem() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("portask-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let broker = try Broker(
            config: BrokerConfig(properties: [
                "log.dirs": directory, "group.share.auto.offset.reset": "earliest",
                "group.share.record.lock.duration.ms": "60000",
            ]),
            logger: Logger(label: "test"))
        let topic = try broker.topics.create(name: "queue", partitions: 1)
        let log = try #require(broker.topics.partition("queue", 0))
        let batch = RecordBatchEncoder(baseTimestamp: 1_700_000_000_000).build(count: 10) { index in [UInt8(index)] }
        try log.append(ByteBuffer(bytes: batch))
        let router = broker.makeRouter()
        for member in ["a", "b"] {
            let joined = try await answer(
                router, ShareGroupHeartbeatRequest(groupId: "q", memberId: member, subscribedTopicNames: ["queue"]),
                as: ShareGroupHeartbeatResponse.self, version: 1, connectionId: 1)
            #expect(joined.errorCode == 0)
        }
        func fetch(_ member: String, connection: UInt64) async throws -> [ShareFetchResponse.AcquiredRecords] {
            let response = try await answer(
                router, ShareFetchRequest(
                    groupId: "q", memberId: member, shareSessionEpoch: 0, maxWaitMs: 0, maxRecords: 10, batchSize: 3,
                    topics: [.init(topicId: topic.id, partitions: [.init(partitionIndex: 0)])]),
                as: ShareFetchResponse.self, version: 1, connectionId: connection)
            #expect(response.errorCode == 0)
            return response.responses.flatMap(\.partitions).flatMap(\.acquiredRecords)
        }
        let acquired = try await fetch("a", connection: 7)
        #expect(acquired.map { [$0.firstOffset, $0.lastOffset] } == [[0, 2], [3, 5], [6, 8], [9, 9]])
        #expect(try await fetch("b", connection: 8).isEmpty)

        // Member a's connection closes: its share session ends and its records are Available again at once (the
        // lock would hold them for 60 s), so b acquires them, delivered a second time.
        router.connectionClosed(7)
        #expect(broker.groups.shareSessions.count == 1)
        let redelivered = try await fetch("b", connection: 8)
        #expect(redelivered.map(\.firstOffset) == [0, 3, 6, 9] && redelivered.allSatisfy { $0.deliveryCount == 2 })
        // Closing a connection that opened no session changes nothing.
        router.connectionClosed(99)
        #expect(broker.groups.shareSessions.count == 1)
    }

    @Test func split_neverOverflows() {
        let ranges = [SharePartitionState.AcquiredRange(firstOffset: Int64.max - 2, lastOffset: Int64.max, deliveryCount: 1)]
        #expect(ShareFetchHandler.split(ranges, batchSize: 2).map(\.lastOffset) == [Int64.max - 1, Int64.max])
        #expect(ShareFetchHandler.split(ranges, batchSize: Int.max).count == 1)
    }
}
