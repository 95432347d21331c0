import KafkaProtocol
import LogEngine

/// ShareGroupHeartbeat (key 76, v1) and ShareGroupDescribe (key 77, v1) of share groups (KIP-932). Members
/// name themselves (a non-empty member id on join); the `simple` assignor gives every member every partition
/// of its subscribed topics. Thread-safe.
struct ShareGroupHandlers: Sendable {
    let coordinator: GroupCoordinator
    let topics: TopicManager
    /// With an authorizer, as Kafka checks them: a heartbeat needs READ on the group (GROUP_AUTHORIZATION_FAILED)
    /// and DESCRIBE on every subscribed topic (TOPIC_AUTHORIZATION_FAILED); describing needs DESCRIBE on the group.
    var access = AccessControl()

    func makeHandlers() -> [ApiHandler] {
        [
            ApiHandler(ShareGroupHeartbeatRequest.self, response: ShareGroupHeartbeatResponse.self, versions: 1...1) {
                request, context in
                guard self.access.allows(context, .read, .group, request.groupId) else {
                    return ShareGroupHeartbeatResponse(errorCode: KafkaErrorCode.groupAuthorizationFailed.rawValue)
                }
                if let names = request.subscribedTopicNames,
                   !Set(names).allSatisfy({ self.access.allows(context, .describe, .topic, $0) }) {
                    return ShareGroupHeartbeatResponse(errorCode: KafkaErrorCode.topicAuthorizationFailed.rawValue)
                }
                return await self.heartbeat(request, context: context)
            },
            ApiHandler(ShareGroupDescribeRequest.self, response: ShareGroupDescribeResponse.self, versions: 1...1) {
                request, context in
                var response = await self.describe(request)
                guard self.access.isEnabled else { return response }
                for index in response.groups.indices
                where !self.access.allows(context, .describe, .group, response.groups[index].groupId) {
                    response.groups[index] = .init(
                        errorCode: KafkaErrorCode.groupAuthorizationFailed.rawValue,
                        errorMessage: "Group authorization failed.", groupId: response.groups[index].groupId)
                }
                return response
            },
        ]
    }

    static func invalid(_ message: String) -> ShareGroupHeartbeatResponse {
        ShareGroupHeartbeatResponse(errorCode: KafkaErrorCode.invalidRequest.rawValue, errorMessage: message)
    }

    func heartbeat(_ request: ShareGroupHeartbeatRequest, context: RequestContext) async -> ShareGroupHeartbeatResponse {
        guard !request.groupId.isEmpty else { return Self.invalid("GroupId can't be empty.") }
        guard !request.memberId.isEmpty else { return Self.invalid("MemberId can't be empty.") }
        if request.memberEpoch == 0, request.subscribedTopicNames?.isEmpty ?? true {
            return Self.invalid("SubscribedTopicNames must be set in first request.")
        }
        guard request.memberEpoch >= ShareGroup.leaveEpoch else {
            return Self.invalid("MemberEpoch is invalid.")
        }
        let outcome = await coordinator.shareHeartbeat(groupId: request.groupId, ShareHeartbeatInput(
            memberId: request.memberId, memberEpoch: request.memberEpoch, rackId: request.rackId,
            subscribedTopicNames: request.subscribedTopicNames, clientId: context.clientId ?? "",
            clientHost: GroupMembershipHandlers.clientHost(context)))
        var response = ShareGroupHeartbeatResponse(
            errorCode: outcome.error.rawValue, errorMessage: outcome.message, memberId: outcome.memberId,
            memberEpoch: outcome.memberEpoch)
        guard outcome.error == .noError else { return response }
        response.heartbeatIntervalMs = coordinator.groupConfigs.integer(
            GroupConfigStore.heartbeatInterval, of: request.groupId).map { Int32(clamping: $0) }
            ?? coordinator.config.shareHeartbeatIntervalMs
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

    func describe(_ request: ShareGroupDescribeRequest) async -> ShareGroupDescribeResponse {
        let operations = request.includeAuthorizedOperations
            ? GroupAdminHandlers.groupAuthorizedOperations : MetadataHandler.authorizedOperationsNotRequested
        var groups: [ShareGroupDescribeResponse.DescribedGroup] = []
        var described: [String: ShareGroupDescribeResponse.DescribedGroup] = [:]
        for groupId in request.groupIds {
            if let known = described[groupId] {
                groups.append(known)
                continue
            }
            let group = await describe(groupId, operations: operations)
            described[groupId] = group
            groups.append(group)
        }
        return ShareGroupDescribeResponse(groups: groups)
    }

    private func describe(_ groupId: String, operations: Int32) async -> ShareGroupDescribeResponse.DescribedGroup {
        guard let group = coordinator.shareGroup(groupId) else {
            let code: KafkaErrorCode = groupId.isEmpty ? .invalidGroupId : .groupIdNotFound
            let message = coordinator.group(groupId) != nil || coordinator.consumerGroup(groupId) != nil
                ? "Group \(groupId) is not a share group." : "Group \(groupId) not found."
            return .init(
                errorCode: code.rawValue, errorMessage: message, groupId: groupId, groupState: "Dead",
                authorizedOperations: operations)
        }
        let snapshot = await group.snapshot()
        return .init(
            groupId: groupId, groupState: snapshot.state, groupEpoch: snapshot.groupEpoch,
            assignmentEpoch: snapshot.assignmentEpoch, assignorName: ShareGroup.assignorName,
            members: snapshot.members.map { member in
                .init(
                    memberId: member.memberId, rackId: member.rackId, memberEpoch: member.memberEpoch,
                    clientId: member.clientId, clientHost: member.clientHost,
                    subscribedTopicNames: member.subscribedTopics,
                    assignment: .init(topicPartitions: byTopicId(member.assigned).map {
                        .init(topicId: $0.0, topicName: $0.1, partitions: $0.2)
                    }))
            },
            authorizedOperations: operations)
    }
}
