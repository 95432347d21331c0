import Foundation
import KafkaProtocol
import LogEngine

/// ConsumerGroupHeartbeat (key 68, v0–1) and ConsumerGroupDescribe (key 69, v0–1; v1 adds each member's type:
/// CONSUMER, as only consumer-protocol members join these groups) of the `consumer` group
/// protocol (KIP-848) with the server-side `uniform` and `range` assignors. In v0 the broker names new
/// members; from v1 the client does. With an authorizer, as Kafka checks them: a heartbeat needs READ on the
/// group (else GROUP_AUTHORIZATION_FAILED) and DESCRIBE on every subscribed topic name (else
/// TOPIC_AUTHORIZATION_FAILED); describing needs DESCRIBE on the group, and a group using topics the principal
/// may not DESCRIBE is answered TOPIC_AUTHORIZATION_FAILED. Thread-safe.
struct ConsumerGroupHandlers: Sendable {
    let coordinator: GroupCoordinator
    let topics: TopicManager
    var access = AccessControl()

    func makeHandlers() -> [ApiHandler] {
        [
            ApiHandler(ConsumerGroupHeartbeatRequest.self, response: ConsumerGroupHeartbeatResponse.self, versions: 0...1) {
                request, context in
                guard self.access.allows(context, .read, .group, request.groupId) else {
                    return ConsumerGroupHeartbeatResponse(errorCode: KafkaErrorCode.groupAuthorizationFailed.rawValue)
                }
                if let names = request.subscribedTopicNames,
                   !Set(names).allSatisfy({ self.access.allows(context, .describe, .topic, $0) }) {
                    return ConsumerGroupHeartbeatResponse(errorCode: KafkaErrorCode.topicAuthorizationFailed.rawValue)
                }
                guard self.coordinator.coordinates(request.groupId) else {
                    return ConsumerGroupHeartbeatResponse(errorCode: KafkaErrorCode.notCoordinator.rawValue)
                }
                return await self.heartbeat(request, context: context)
            },
            ApiHandler(ConsumerGroupDescribeRequest.self, response: ConsumerGroupDescribeResponse.self, versions: 0...1) {
                request, context in
                var response = await self.describe(request) { self.access.authorizedOperations(context, .group, $0) }
                guard self.access.isEnabled else { return response }
                for index in response.groups.indices {
                    let group = response.groups[index]
                    if !self.access.allows(context, .describe, .group, group.groupId) {
                        response.groups[index] = .init(
                            errorCode: KafkaErrorCode.groupAuthorizationFailed.rawValue,
                            errorMessage: "Group authorization failed.", groupId: group.groupId)
                    } else if !Self.topicNames(of: group).allSatisfy({ self.access.allows(context, .describe, .topic, $0) }) {
                        response.groups[index] = .init(
                            errorCode: KafkaErrorCode.topicAuthorizationFailed.rawValue,
                            errorMessage: "The described group uses topics that the client is not authorized to describe.",
                            groupId: group.groupId)
                    }
                }
                return response
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

    /// Every topic a described group's members subscribe to by name or are (to be) assigned.
    static func topicNames(of group: ConsumerGroupDescribeResponse.DescribedGroup) -> Set<String> {
        var names = Set<String>()
        for member in group.members {
            names.formUnion(member.subscribedTopicNames)
            names.formUnion(member.assignment.topicPartitions.map(\.topicName))
            names.formUnion(member.targetAssignment.topicPartitions.map(\.topicName))
        }
        return names
    }

    func describe(
        _ request: ConsumerGroupDescribeRequest,
        operations groupOperations: (String) -> Int32 = { _ in GroupAdminHandlers.groupAuthorizedOperations }
    ) async -> ConsumerGroupDescribeResponse {
        var groups: [ConsumerGroupDescribeResponse.DescribedGroup] = []
        // Each distinct group id is described once per request; a repeated id reuses the answer.
        var described: [String: ConsumerGroupDescribeResponse.DescribedGroup] = [:]
        for groupId in request.groupIds {
            if let known = described[groupId] {
                groups.append(known)
                continue
            }
            defer { if let last = groups.last { described[groupId] = last } }
            let operations = request.includeAuthorizedOperations
                ? groupOperations(groupId) : MetadataHandler.authorizedOperationsNotRequested
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
