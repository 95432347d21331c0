import Foundation
import KafkaProtocol
import Logging
import NIOCore
import Testing
@testable import PortaskBroker

/// With an authorizer, the transaction APIs check the transactional id, the topics and the group as Kafka does.
struct TransactionAuthorizationTests {
    private func answer<Response: KafkaResponseMessage>(
        _ router: RequestRouter, _ body: some KafkaRequestMessage, as _: Response.Type, version: Int16,
        principal: String
    ) async throws -> Response {
        let apiKey = type(of: body).apiKey
        let handler = try #require(router.handler(for: apiKey))
        let request = KafkaRequest(
            header: RequestHeader(apiKey: apiKey.rawValue, apiVersion: version, correlationId: 1, clientId: "t"),
            apiKey: apiKey, body: body)
        let context = RequestContext(
            apiKey: apiKey, apiVersion: version, correlationId: 1, clientId: "t", clientAddress: "127.0.0.1:1",
            principal: KafkaPrincipal(name: principal))
        let encoded = try #require(try await handler.respond(request, context)())
        guard case .byteBuffer(var frame) = encoded.parts[0] else { throw KafkaProtocolError(.invalid, "no buffer") }
        frame.moveReaderIndex(forwardBy: 4)
        return try KafkaResponseFrame.decode(Response.self, frame: frame, version: version).body
    }

    @Test func transactionApis_refuseWhatTheAuthorizerDoesNotAllow() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("portask-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let broker = try Broker(
            config: BrokerConfig(properties: [
                "log.dirs": directory,
                "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            ]),
            logger: Logger(label: "test"))
        let authorizer = try #require(broker.authorizer)
        try authorizer.create([
            AclBinding(
                resourceType: .transactionalId, resourceName: "bob-tx", patternType: .literal, principal: "User:bob",
                host: "*", operation: .write, permission: .allow),
        ])
        _ = try broker.topics.create(name: "orders", partitions: 1)
        let router = broker.makeRouter()

        let endOther = try await answer(
            router, EndTxnRequest(transactionalId: "alice-tx", producerId: 1, producerEpoch: 0, committed: true),
            as: EndTxnResponse.self, version: 3, principal: "bob")
        #expect(endOther.errorCode == KafkaErrorCode.transactionalIdAuthorizationFailed.rawValue)

        let add = try await answer(
            router,
            AddPartitionsToTxnRequest(
                v3AndBelowTransactionalId: "bob-tx", v3AndBelowProducerId: 1, v3AndBelowProducerEpoch: 0,
                v3AndBelowTopics: [.init(name: "orders", partitions: [0])]),
            as: AddPartitionsToTxnResponse.self, version: 3, principal: "bob")
        #expect(add.resultsByTopicV3AndBelow.first?.resultsByPartition.first?.partitionErrorCode
            == KafkaErrorCode.topicAuthorizationFailed.rawValue)

        let offsets = try await answer(
            router,
            AddOffsetsToTxnRequest(transactionalId: "bob-tx", producerId: 1, producerEpoch: 0, groupId: "g"),
            as: AddOffsetsToTxnResponse.self, version: 3, principal: "bob")
        #expect(offsets.errorCode == KafkaErrorCode.groupAuthorizationFailed.rawValue)

        let commit = try await answer(
            router,
            TxnOffsetCommitRequest(
                transactionalId: "alice-tx", groupId: "g", producerId: 1, producerEpoch: 0,
                topics: [.init(name: "orders", partitions: [.init(partitionIndex: 0, committedOffset: 5)])]),
            as: TxnOffsetCommitResponse.self, version: 3, principal: "bob")
        #expect(commit.topics.first?.partitions.first?.errorCode
            == KafkaErrorCode.transactionalIdAuthorizationFailed.rawValue)
    }
}
