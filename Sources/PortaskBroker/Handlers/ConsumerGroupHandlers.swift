import Foundation
import KafkaProtocol
import LogEngine

/// ConsumerGroupHeartbeat (key 68, v0–1) and ConsumerGroupDescribe (key 69, v0–1; v1 adds each member's type:
/// CONSUMER, as only consumer-protocol members join these groups) of the `consumer` group
/// protocol (KIP-848) with the server-side `uniform` and `range` assignors. In v0 the broker names new
/// members; from v1 the client does. Thread-safe.
struct ConsumerGroupHandlers: Sendable {
    let coordinator: GroupCoordinator
    let topics: TopicManager

    func makeHandlers() -> [ApiHandler] {
        [
            ApiHandler(ConsumerGroupHeartbeatRequest.self, response: ConsumerGroupHeartbeatResponse.self, versions: 0...1) {
                request, context in
                await self.heartbeat(request, context: context)
            },
            ApiHandler(ConsumerGroupDescribeRequest.self, response: ConsumerGroupDescribeResponse.self, versions: 0...1) {
                request, _ in
                await self.describe(request)
            },
        ]
    }

    /// ConsumerGroupDescribe v1's member type of a member using the consumer protocol (0 is classic, -1 unknown).
    static let consumerMemberType: Int8 = 1

    static func invalid(_ message: String) -> ConsumerGroupHeartbeatResponse {
        ConsumerGroupHeartbeatResponse(errorCode: KafkaErrorCode.invalidRequest.rawValue, errorMessage: message)
    }

    func heartbeat(_ request: ConsumerGroupHeartbeatRequest, context: RequestContext) async -> ConsumerGroupHeartbeatResponse {
        guard !request.groupId.isEmpty else { return Self.invalid("GroupId can't be empty.") }
        var memberId = request.memberId
        // An empty regex matches no topic name; it is the same as none.
        let regex = context.apiVersion >= 1 ? request.subscribedTopicRegex.flatMap { $0.isEmpty ? nil : $0 } : nil
        if request.memberEpoch == 0 {
            if request.subscribedTopicNames == nil && request.subscribedTopicRegex == nil {
                return Self.invalid("SubscribedTopicNames or SubscribedTopicRegex must be set in first request.")
            }
            if request.rebalanceTimeoutMs == -1 { return Self.invalid("RebalanceTimeoutMs must be provided in first request.") }
            if memberId.isEmpty {
                guard context.apiVersion == 0 else { return Self.invalid("MemberId can't be empty.") }
                memberId = KafkaUUID.random().description
            }
        } else if memberId.isEmpty {
            return Self.invalid("MemberId can't be empty.")
        }
        let owned = request.topicPartitions.map { entries in
            Set(entries.flatMap { entry -> [TopicPartition] in
                guard let topic = topics.topic(id: entry.topicId) else { return [] }
                return entry.partitions.map { TopicPartition(topic.name, $0) }
            })
        }
        let outcome = await coordinator.consumerHeartbeat(groupId: request.groupId, ConsumerHeartbeatInput(
            memberId: memberId, memberEpoch: request.memberEpoch, instanceId: request.instanceId, rackId: request.rackId,
            rebalanceTimeoutMs: request.rebalanceTimeoutMs, subscribedTopicNames: request.subscribedTopicNames,
            subscribedTopicRegex: regex,
            serverAssignor: request.serverAssignor, ownedPartitions: owned, clientId: context.clientId ?? "",
            clientHost: GroupMembershipHandlers.clientHost(context)))
        var response = ConsumerGroupHeartbeatResponse(
            errorCode: outcome.error.rawValue, errorMessage: outcome.message, memberId: outcome.memberId,
            memberEpoch: outcome.memberEpoch)
        guard outcome.error == .noError else { return response }
        response.heartbeatIntervalMs = coordinator.config.consumerHeartbeatIntervalMs
        if let assignment = outcome.assignment {
            response.assignment = .init(topicPartitions: byTopicId(assignment).map { .init(topicId: $0.0, partitions: $0.2) })
        }
        return response
    }

    /// Partitions grouped by topic: (topic id, name, sorted partitions), topics in name order.
    func byTopicId(_ partitions: Set<TopicPartition>) -> [(KafkaUUID, String, [Int32])] {
        Dictionary(grouping: partitions, by: \.topic).sorted { $0.key < $1.key }.compactMap { name, entries in
            guard let topic = topics.topic(named: name) else { return nil }
            return (topic.id, name, entries.map(\.partition).sorted())
        }
    }

    func describe(_ request: ConsumerGroupDescribeRequest) async -> ConsumerGroupDescribeResponse {
        var groups: [ConsumerGroupDescribeResponse.DescribedGroup] = []
        let operations = request.includeAuthorizedOperations
            ? GroupAdminHandlers.groupAuthorizedOperations : MetadataHandler.authorizedOperationsNotRequested
        // Each distinct group id is described once per request; a repeated id reuses the answer.
        var described: [String: ConsumerGroupDescribeResponse.DescribedGroup] = [:]
        for groupId in request.groupIds {
            if let known = described[groupId] {
                groups.append(known)
                continue
            }
            defer { if let last = groups.last { described[groupId] = last } }
            guard let group = coordinator.consumerGroup(groupId) else {
                let code: KafkaErrorCode = groupId.isEmpty ? .invalidGroupId : .groupIdNotFound
                groups.append(.init(
                    errorCode: code.rawValue, errorMessage: "Group \(groupId) not found.", groupId: groupId,
                    groupState: "Dead", authorizedOperations: operations))
                continue
            }
            let snapshot = await group.snapshot()
            groups.append(.init(
                groupId: groupId, groupState: snapshot.state, groupEpoch: snapshot.groupEpoch,
                assignmentEpoch: snapshot.assignmentEpoch, assignorName: snapshot.assignor,
                members: snapshot.members.map { member in
                    .init(
                        memberId: member.memberId, instanceId: member.instanceId, rackId: member.rackId,
                        memberEpoch: member.memberEpoch, clientId: member.clientId, clientHost: member.clientHost,
                        subscribedTopicNames: member.subscribedTopics, subscribedTopicRegex: member.subscriptionRegex,
                        assignment: assignment(member.assigned), targetAssignment: assignment(member.target),
                        memberType: Self.consumerMemberType)
                },
                authorizedOperations: operations))
        }
        return ConsumerGroupDescribeResponse(groups: groups)
    }

    private func assignment(_ partitions: Set<TopicPartition>) -> ConsumerGroupDescribeResponse.Assignment {
        .init(topicPartitions: byTopicId(partitions).map { .init(topicId: $0.0, topicName: $0.1, partitions: $0.2) })
    }
}
