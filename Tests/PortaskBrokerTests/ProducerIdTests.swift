import Foundation
import KafkaProtocol
import LogEngine
import Logging
import NIOCore
import Testing
@testable import PortaskBroker

struct ProducerIdTests {
    static func temporaryDirectory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("portask-pid-\(UUID().uuidString)").path
    }

    @Test func allocate_neverReusesIdsAcrossRestarts() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try ProducerIdManager(dataDirectory: directory, blockSize: 10)
        #expect(try (0..<12).map { _ in try first.allocate() } == Array(0..<12))
        #expect(try String(contentsOfFile: first.path, encoding: .utf8) == "0\n20\n")
        // A restart (or crash) continues after the reserved block, skipping its unused ids.
        let second = try ProducerIdManager(dataDirectory: directory, blockSize: 10)
        #expect(try second.allocate() == 20)
        #expect(second.wasAllocated(5) && second.wasAllocated(20) && !second.wasAllocated(21) && !second.wasAllocated(-1))
    }

    @Test func init_rejectsAMalformedFile() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try "0\nmany\n".write(toFile: directory + "/" + ProducerIdManager.fileName, atomically: true, encoding: .utf8)
        #expect(throws: BrokerError.self) { try ProducerIdManager(dataDirectory: directory) }
    }

    @Test func initProducerId_allocatesBumpsAndLeavesTransactionalIdsToTheCoordinator() async throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let handler = InitProducerIdHandler(producerIds: try ProducerIdManager(dataDirectory: directory))
        let fresh = await handler.respond(InitProducerIdRequest(transactionalId: nil, transactionTimeoutMs: 60000))
        #expect(fresh == InitProducerIdResponse(errorCode: 0, producerId: 0, producerEpoch: 0))
        let second = await handler.respond(InitProducerIdRequest(transactionalId: nil))
        #expect(second.producerId == 1 && second.producerEpoch == 0)
        let bumped = await handler.respond(InitProducerIdRequest(transactionalId: nil, producerId: 0, producerEpoch: 4))
        #expect(bumped == InitProducerIdResponse(errorCode: 0, producerId: 0, producerEpoch: 5))
        let exhausted = await handler.respond(InitProducerIdRequest(transactionalId: nil, producerId: 0, producerEpoch: Int16.max - 1))
        #expect(exhausted.producerId == 2 && exhausted.producerEpoch == 0)
        let foreign = await handler.respond(InitProducerIdRequest(transactionalId: nil, producerId: 999, producerEpoch: 0))
        #expect(foreign.producerId == 3 && foreign.producerEpoch == 0)
        let half = await handler.respond(InitProducerIdRequest(transactionalId: nil, producerId: 0, producerEpoch: -1))
        #expect(half == InitProducerIdResponse(errorCode: KafkaErrorCode.invalidRequest.rawValue, producerId: -1, producerEpoch: -1))
        let empty = await handler.respond(InitProducerIdRequest(transactionalId: ""))
        #expect(empty.errorCode == KafkaErrorCode.invalidRequest.rawValue)
        let transactional = await handler.respond(InitProducerIdRequest(transactionalId: "orders-app"))
        #expect(transactional.errorCode == KafkaErrorCode.coordinatorNotAvailable.rawValue)
        #expect(transactional.producerId == -1 && transactional.producerEpoch == -1)
    }

    @Test func describeProducers_listsEachPartitionsProducers() throws {
        let config = try BrokerConfig(properties: ["log.dirs": Self.temporaryDirectory()])
        defer { try? FileManager.default.removeItem(atPath: config.dataDirectory) }
        let topics = try TopicManager(config: config, logger: Logger(label: "test"))
        try topics.create(name: "t", partitions: 2)
        var builder = RecordBatchEncoder(baseTimestamp: 1_700_000_000_000)
        builder.producerId = 12
        builder.producerEpoch = 3
        builder.baseSequence = 0
        let log = try #require(topics.partition("t", 1))
        try log.append(ByteBuffer(bytes: builder.build(count: 4) { Array("v\($0)".utf8) }))
        let response = DescribeProducersHandler(topics: topics).respond(DescribeProducersRequest(topics: [
            .init(name: "t", partitionIndexes: [0, 1, 5]), .init(name: "missing", partitionIndexes: [0]),
        ]))
        let partitions = response.topics[0].partitions
        #expect(partitions[0].errorCode == 0 && partitions[0].activeProducers.isEmpty)
        #expect(partitions[1].activeProducers == [.init(
            producerId: 12, producerEpoch: 3, lastSequence: 3, lastTimestamp: 1_700_000_000_003, coordinatorEpoch: -1,
            currentTxnStartOffset: -1)])
        #expect(partitions[2].errorCode == KafkaErrorCode.unknownTopicOrPartition.rawValue)
        #expect(response.topics[1].partitions[0].errorCode == KafkaErrorCode.unknownTopicOrPartition.rawValue)
        try topics.close()
    }

    @Test func router_servesInitProducerIdAndDescribeProducers() throws {
        let config = try BrokerConfig(properties: ["log.dirs": Self.temporaryDirectory()])
        defer { try? FileManager.default.removeItem(atPath: config.dataDirectory) }
        let broker = try Broker(config: config, logger: Logger(label: "test"))
        let versions = broker.makeRouter().supportedVersions
        #expect(versions.first { $0.apiKey == .initProducerId }?.versions == 0...5)
        #expect(versions.first { $0.apiKey == .describeProducers }?.versions == 0...0)
        try broker.topics.close()
    }
}
