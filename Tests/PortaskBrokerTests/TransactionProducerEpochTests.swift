import Foundation
import KafkaProtocol
import Logging
import NIOCore
import Testing
@testable import PortaskBroker

/// KIP-360 epoch bumps of InitProducerId with a transactional id, and TxnOffsetCommit's group member checks
/// (v3+: generation, member id, group instance id), with Kafka's error codes.
struct TransactionProducerEpochTests {
    private static func broker() throws -> (Broker, String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("portask-\(UUID().uuidString)").path
        let broker = try Broker(
            config: BrokerConfig(properties: [
                "log.dirs": directory, "transaction.state.log.num.partitions": "1",
                "offsets.topic.num.partitions": "1", "group.initial.rebalance.delay.ms": "0",
            ]),
            logger: Logger(label: "test"))
        return (broker, directory)
    }

    private func answer<Response: KafkaResponseMessage>(
        _ router: RequestRouter, _ body: some KafkaRequestMessage, as _: Response.Type, version: Int16
    ) async throws -> Response {
        let apiKey = type(of: body).apiKey
        let handler = try #require(router.handler(for: apiKey))
        let request = KafkaRequest(
            header: RequestHeader(apiKey: apiKey.rawValue, apiVersion: version, correlationId: 1, clientId: "t"),
            apiKey: apiKey, body: body)
        let context = RequestContext(
            apiKey: apiKey, apiVersion: version, correlationId: 1, clientId: "t", clientAddress: "127.0.0.1:1")
        let encoded = try #require(try await handler.respond(request, context)())
        guard case .byteBuffer(var frame) = encoded.parts[0] else { throw KafkaProtocolError(.invalid, "no buffer") }
        frame.moveReaderIndex(forwardBy: 4)
        return try KafkaResponseFrame.decode(Response.self, frame: frame, version: version).body
    }

    @Test func initProducerId_bumpsForTheCurrentEpochAnswersRetriesAndFencesTheRest() async throws {
        let (broker, directory) = try Self.broker()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let coordinator = broker.transactions
        let (error, producerId, epoch) = await coordinator.initProducerId(
            "app", timeoutMs: 60_000, producerId: -1, producerEpoch: -1)
        #expect(error == .noError && epoch == 0)
        // KIP-360: the current id and epoch bump the epoch; a retry of that bump gets the same answer.
        var result = await coordinator.initProducerId("app", timeoutMs: 60_000, producerId: producerId, producerEpoch: 0)
        #expect(result == (.noError, producerId, 1))
        result = await coordinator.initProducerId("app", timeoutMs: 60_000, producerId: producerId, producerEpoch: 0)
        #expect(result == (.noError, producerId, 1))
        result = await coordinator.initProducerId("app", timeoutMs: 60_000, producerId: producerId, producerEpoch: 1)
        #expect(result == (.noError, producerId, 2))
        // An epoch older than the last bump's, or another id, is fenced.
        result = await coordinator.initProducerId("app", timeoutMs: 60_000, producerId: producerId, producerEpoch: 0)
        #expect(result.0 == .producerFenced)
        result = await coordinator.initProducerId("app", timeoutMs: 60_000, producerId: producerId + 7, producerEpoch: 2)
        #expect(result.0 == .producerFenced)
        // A new producer (no id given) bumps and forgets the last epoch: the old owner's retry is fenced.
        result = await coordinator.initProducerId("app", timeoutMs: 60_000, producerId: -1, producerEpoch: -1)
        #expect(result == (.noError, producerId, 3))
        result = await coordinator.initProducerId("app", timeoutMs: 60_000, producerId: producerId, producerEpoch: 2)
        #expect(result.0 == .producerFenced)
        // Only one of id and epoch: INVALID_REQUEST, as Kafka.
        let router = broker.makeRouter()
        let invalid = try await answer(
            router, InitProducerIdRequest(transactionalId: "app", transactionTimeoutMs: 60_000, producerId: producerId,
                                          producerEpoch: -1),
            as: InitProducerIdResponse.self, version: 4)
        #expect(invalid.errorCode == KafkaErrorCode.invalidRequest.rawValue)
    }

    @Test func txnOffsetCommit_checksGenerationMemberAndInstance() async throws {
        let (broker, directory) = try Self.broker()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = try broker.topics.create(name: "in", partitions: 1)
        let router = broker.makeRouter()
        let (_, producerId, epoch) = await broker.transactions.initProducerId(
            "ctp", timeoutMs: 60_000, producerId: -1, producerEpoch: -1)
        let added = try await answer(
            router, AddOffsetsToTxnRequest(transactionalId: "ctp", producerId: producerId, producerEpoch: epoch, groupId: "g"),
            as: AddOffsetsToTxnResponse.self, version: 3)
        #expect(added.errorCode == 0)
        let joined = try await answer(
            router,
            JoinGroupRequest(
                groupId: "g", sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, groupInstanceId: "instance-1",
                protocolType: "consumer", protocols: [.init(name: "range", metadata: ByteBuffer(bytes: [0, 0]))]),
            as: JoinGroupResponse.self, version: 5)
        #expect(joined.errorCode == 0 && joined.generationId == 1)

        func commit(
            group: String = "g", generation: Int32, member: String, instance: String?, version: Int16 = 3
        ) async throws -> Int16 {
            let response = try await answer(
                router,
                TxnOffsetCommitRequest(
                    transactionalId: "ctp", groupId: group, producerId: producerId, producerEpoch: epoch,
                    generationId: generation, memberId: member, groupInstanceId: instance,
                    topics: [.init(name: "in", partitions: [.init(partitionIndex: 0, committedOffset: 5)])]),
                as: TxnOffsetCommitResponse.self, version: version)
            return try #require(response.topics.first?.partitions.first?.errorCode)
        }
        let member = joined.memberId
        #expect(try await commit(generation: 1, member: member, instance: "instance-1") == 0)
        #expect(try await commit(generation: 2, member: member, instance: "instance-1")
            == KafkaErrorCode.illegalGeneration.rawValue)
        #expect(try await commit(generation: 1, member: "someone-else", instance: nil)
            == KafkaErrorCode.unknownMemberId.rawValue)
        #expect(try await commit(generation: 1, member: "someone-else", instance: "instance-1")
            == KafkaErrorCode.fencedInstanceId.rawValue)
        #expect(try await commit(generation: 1, member: member, instance: "instance-2")
            == KafkaErrorCode.unknownMemberId.rawValue)
        // Without member information (older versions, or a producer not in the group) the commit is taken.
        #expect(try await commit(generation: -1, member: "", instance: nil) == 0)
        #expect(try await commit(generation: 7, member: "ignored", instance: nil, version: 2) == 0)
        // A group that does not exist with a generation: ILLEGAL_GENERATION.
        #expect(try await commit(group: "absent", generation: 1, member: member, instance: nil)
            == KafkaErrorCode.illegalGeneration.rawValue)
    }
}
