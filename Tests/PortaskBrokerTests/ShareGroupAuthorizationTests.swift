import Foundation
import KafkaProtocol
import Logging
import NIOCore
import Testing
@testable import PortaskBroker

/// With an authorizer, the share-group APIs check the group and the subscribed topics as Kafka does.
struct ShareGroupAuthorizationTests {
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

    @Test func shareGroupApis_refuseWhatTheAuthorizerDoesNotAllow() async throws {
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
                resourceType: .group, resourceName: "bob-share", patternType: .literal, principal: "User:bob",
                host: "*", operation: .read, permission: .allow),
            AclBinding(
                resourceType: .topic, resourceName: "orders", patternType: .literal, principal: "User:bob",
                host: "*", operation: .read, permission: .allow),
        ])
        _ = try broker.topics.create(name: "orders", partitions: 1)
        _ = try broker.topics.create(name: "secret", partitions: 1)
        let router = broker.makeRouter()

        let otherGroup = try await answer(
            router, ShareGroupHeartbeatRequest(groupId: "alice-share", memberId: "m1", subscribedTopicNames: ["orders"]),
            as: ShareGroupHeartbeatResponse.self, version: 1, principal: "bob")
        #expect(otherGroup.errorCode == KafkaErrorCode.groupAuthorizationFailed.rawValue)

        let secretTopic = try await answer(
            router, ShareGroupHeartbeatRequest(groupId: "bob-share", memberId: "m1", subscribedTopicNames: ["secret"]),
            as: ShareGroupHeartbeatResponse.self, version: 1, principal: "bob")
        #expect(secretTopic.errorCode == KafkaErrorCode.topicAuthorizationFailed.rawValue)

        let joined = try await answer(
            router, ShareGroupHeartbeatRequest(groupId: "bob-share", memberId: "m1", subscribedTopicNames: ["orders"]),
            as: ShareGroupHeartbeatResponse.self, version: 1, principal: "bob")
        #expect(joined.errorCode == 0 && joined.memberEpoch > 0)

        let described = try await answer(
            router, ShareGroupDescribeRequest(groupIds: ["bob-share", "alice-share"]),
            as: ShareGroupDescribeResponse.self, version: 1, principal: "bob")
        #expect(described.groups.map(\.errorCode) == [0, KafkaErrorCode.groupAuthorizationFailed.rawValue])

        let fetch = try await answer(
            router, ShareFetchRequest(groupId: "alice-share", memberId: "m1", maxRecords: 10),
            as: ShareFetchResponse.self, version: 1, principal: "bob")
        #expect(fetch.errorCode == KafkaErrorCode.groupAuthorizationFailed.rawValue)

        let acknowledge = try await answer(
            router, ShareAcknowledgeRequest(groupId: "alice-share", memberId: "m1", shareSessionEpoch: 1),
            as: ShareAcknowledgeResponse.self, version: 1, principal: "bob")
        #expect(acknowledge.errorCode == KafkaErrorCode.groupAuthorizationFailed.rawValue)
    }

    @Test func shareGroupOffsetApis_checkTheGroupAndEachTopicAsKafkaDoes() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("portask-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let broker = try Broker(
            config: BrokerConfig(properties: [
                "log.dirs": directory,
                "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                "super.users": "User:admin",
            ]),
            logger: Logger(label: "test"))
        let authorizer = try #require(broker.authorizer)
        func allow(_ principal: String, _ type: AclResourceType, _ name: String, _ operation: AclOperation) -> AclBinding {
            AclBinding(
                resourceType: type, resourceName: name, patternType: .literal, principal: "User:\(principal)",
                host: "*", operation: operation, permission: .allow)
        }
        try authorizer.create([
            allow("bob", .group, "bob-share", .read), allow("bob", .topic, "orders", .read),
            allow("carol", .group, "bob-share", .delete), allow("carol", .topic, "orders", .read),
        ])
        _ = try broker.topics.create(name: "orders", partitions: 1)
        _ = try broker.topics.create(name: "secret", partitions: 1)
        let router = broker.makeRouter()

        // The group exists and is empty again: offsets may be altered and deleted.
        let joined = try await answer(
            router, ShareGroupHeartbeatRequest(groupId: "bob-share", memberId: "m1", subscribedTopicNames: ["orders"]),
            as: ShareGroupHeartbeatResponse.self, version: 1, principal: "bob")
        #expect(joined.errorCode == 0)
        let left = try await answer(
            router, ShareGroupHeartbeatRequest(groupId: "bob-share", memberId: "m1", memberEpoch: -1),
            as: ShareGroupHeartbeatResponse.self, version: 1, principal: "bob")
        #expect(left.errorCode == 0)
        let both = [
            AlterShareGroupOffsetsRequest.AlterShareGroupOffsetsRequestTopic(topicName: "orders", partitions: [.init()]),
            AlterShareGroupOffsetsRequest.AlterShareGroupOffsetsRequestTopic(topicName: "secret", partitions: [.init()]),
        ]
        let byAdmin = try await answer(
            router, AlterShareGroupOffsetsRequest(groupId: "bob-share", topics: both),
            as: AlterShareGroupOffsetsResponse.self, version: 0, principal: "admin")
        #expect(byAdmin.errorCode == 0 && byAdmin.responses.flatMap(\.partitions).map(\.errorCode) == [0, 0])

        // Alter: READ on the group, READ on each topic.
        let otherGroup = try await answer(
            router, AlterShareGroupOffsetsRequest(groupId: "alice-share", topics: both),
            as: AlterShareGroupOffsetsResponse.self, version: 0, principal: "bob")
        #expect(otherGroup.errorCode == KafkaErrorCode.groupAuthorizationFailed.rawValue)
        let altered = try await answer(
            router, AlterShareGroupOffsetsRequest(groupId: "bob-share", topics: both),
            as: AlterShareGroupOffsetsResponse.self, version: 0, principal: "bob")
        #expect(altered.errorCode == 0)
        #expect(altered.responses.map(\.topicName) == ["orders", "secret"])
        #expect(altered.responses.flatMap(\.partitions).map(\.errorCode)
            == [0, KafkaErrorCode.topicAuthorizationFailed.rawValue])

        // Describe: DESCRIBE on the group (implied by READ) and on each topic; all topics shows only permitted ones.
        typealias DescribedGroup = DescribeShareGroupOffsetsRequest.DescribeShareGroupOffsetsRequestGroup
        let named = try await answer(
            router, DescribeShareGroupOffsetsRequest(groups: [
                DescribedGroup(groupId: "bob-share", topics: [
                    .init(topicName: "orders", partitions: [0]), .init(topicName: "secret", partitions: [0]),
                ]),
                DescribedGroup(groupId: "alice-share", topics: nil),
            ]),
            as: DescribeShareGroupOffsetsResponse.self, version: 1, principal: "bob")
        #expect(named.groups.map(\.errorCode) == [0, KafkaErrorCode.groupAuthorizationFailed.rawValue])
        let namedPartitions = named.groups[0].topics.flatMap(\.partitions)
        #expect(namedPartitions.map(\.errorCode) == [0, KafkaErrorCode.topicAuthorizationFailed.rawValue])
        #expect(namedPartitions.map(\.startOffset) == [0, -1])
        let all = try await answer(
            router, DescribeShareGroupOffsetsRequest(groups: [DescribedGroup(groupId: "bob-share", topics: nil)]),
            as: DescribeShareGroupOffsetsResponse.self, version: 1, principal: "bob")
        #expect(all.groups.first?.topics.map(\.topicName) == ["orders"])
        let allByAdmin = try await answer(
            router, DescribeShareGroupOffsetsRequest(groups: [DescribedGroup(groupId: "bob-share", topics: nil)]),
            as: DescribeShareGroupOffsetsResponse.self, version: 1, principal: "admin")
        #expect(allByAdmin.groups.first?.topics.map(\.topicName) == ["orders", "secret"])

        // Delete: DELETE on the group (READ is not enough), READ on each topic.
        let deleteNames = ["orders", "secret"].map { DeleteShareGroupOffsetsRequest.DeleteShareGroupOffsetsRequestTopic(topicName: $0) }
        let withoutDelete = try await answer(
            router, DeleteShareGroupOffsetsRequest(groupId: "bob-share", topics: deleteNames),
            as: DeleteShareGroupOffsetsResponse.self, version: 0, principal: "bob")
        #expect(withoutDelete.errorCode == KafkaErrorCode.groupAuthorizationFailed.rawValue)
        let deleted = try await answer(
            router, DeleteShareGroupOffsetsRequest(groupId: "bob-share", topics: deleteNames),
            as: DeleteShareGroupOffsetsResponse.self, version: 0, principal: "carol")
        #expect(deleted.errorCode == 0)
        #expect(deleted.responses.map(\.errorCode) == [0, KafkaErrorCode.topicAuthorizationFailed.rawValue])
        let remaining = try await answer(
            router, DescribeShareGroupOffsetsRequest(groups: [DescribedGroup(groupId: "bob-share", topics: nil)]),
            as: DescribeShareGroupOffsetsResponse.self, version: 1, principal: "admin")
        #expect(remaining.groups.first?.topics.map(\.topicName) == ["secret"])
    }
}
