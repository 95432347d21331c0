import KafkaProtocol
import NIOCore

/// JoinGroup (key 11, v0–9), SyncGroup (key 14, v0–5), Heartbeat (key 12, v0–4) and LeaveGroup (key 13, v0–5)
/// of the classic group protocol, served by the `GroupCoordinator`. Thread-safe: stateless apart from the
/// coordinator. With an authorizer each needs READ on the group, else GROUP_AUTHORIZATION_FAILED; in a cluster a
/// group this broker does not coordinate answers NOT_COORDINATOR.
struct GroupMembershipHandlers: Sendable {
    let coordinator: GroupCoordinator
    var access = AccessControl()

    func makeHandlers() -> [ApiHandler] {
        [
            ApiHandler(JoinGroupRequest.self, response: JoinGroupResponse.self, versions: 0...9) { request, context in
                guard self.access.allows(context, .read, .group, request.groupId) else {
                    return JoinGroupResponse(errorCode: KafkaErrorCode.groupAuthorizationFailed.rawValue, memberId: request.memberId)
                }
                guard self.coordinator.coordinates(request.groupId) else {
                    return JoinGroupResponse(errorCode: KafkaErrorCode.notCoordinator.rawValue, memberId: request.memberId)
                }
                return await self.join(request, context: context)
            },
            ApiHandler(SyncGroupRequest.self, response: SyncGroupResponse.self, versions: 0...5) { request, context in
                guard self.access.allows(context, .read, .group, request.groupId) else {
                    return SyncGroupResponse(errorCode: KafkaErrorCode.groupAuthorizationFailed.rawValue)
                }
                guard self.coordinator.coordinates(request.groupId) else { return SyncGroupResponse(errorCode: KafkaErrorCode.notCoordinator.rawValue) }
                return await self.sync(request, version: context.apiVersion)
            },
            ApiHandler(HeartbeatRequest.self, response: HeartbeatResponse.self, versions: 0...4) { request, context in
                guard self.access.allows(context, .read, .group, request.groupId) else {
                    return HeartbeatResponse(errorCode: KafkaErrorCode.groupAuthorizationFailed.rawValue)
                }
                guard self.coordinator.coordinates(request.groupId) else { return HeartbeatResponse(errorCode: KafkaErrorCode.notCoordinator.rawValue) }
                return await self.heartbeat(request)
            },
            ApiHandler(LeaveGroupRequest.self, response: LeaveGroupResponse.self, versions: 0...5) { request, context in
                guard self.access.allows(context, .read, .group, request.groupId) else {
                    return LeaveGroupResponse(errorCode: KafkaErrorCode.groupAuthorizationFailed.rawValue)
                }
                guard self.coordinator.coordinates(request.groupId) else { return LeaveGroupResponse(errorCode: KafkaErrorCode.notCoordinator.rawValue) }
                return await self.leave(request, version: context.apiVersion)
            },
        ]
    }

    /// Kafka reports a member's host as the client's IP address with a leading slash.
    static func clientHost(_ context: RequestContext) -> String {
        let address = context.clientAddress
        guard let colon = address.lastIndex(of: ":") else { return "/" + address }
        var host = String(address[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return "/" + host
    }

    func join(_ request: JoinGroupRequest, context: RequestContext) async -> JoinGroupResponse {
        let version = context.apiVersion
        let input = JoinGroupInput(
            memberId: request.memberId, groupInstanceId: version >= 5 ? request.groupInstanceId : nil,
            clientId: context.clientId ?? "", clientHost: Self.clientHost(context),
            sessionTimeoutMs: request.sessionTimeoutMs,
            rebalanceTimeoutMs: version >= 1 ? request.rebalanceTimeoutMs : request.sessionTimeoutMs,
            protocolType: request.protocolType,
            protocols: request.protocols.map { MemberProtocol(name: $0.name, metadata: $0.metadata) },
            requireKnownMemberId: version >= 4, supportsSkipAssignment: version >= 9)
        let outcome = await coordinator.join(groupId: request.groupId, input)
        var response = JoinGroupResponse(
            errorCode: outcome.error.rawValue, generationId: outcome.generationId,
            protocolName: outcome.protocolName ?? (version >= 7 ? nil : ""), leader: outcome.leaderId,
            memberId: outcome.memberId)
        if version >= 7 { response.protocolType = outcome.protocolType }
        if version >= 9 { response.skipAssignment = outcome.skipAssignment }
        response.members = outcome.members.map {
            .init(memberId: $0.memberId, groupInstanceId: version >= 5 ? $0.groupInstanceId : nil, metadata: $0.metadata)
        }
        return response
    }

    func sync(_ request: SyncGroupRequest, version: Int16) async -> SyncGroupResponse {
        guard !request.groupId.isEmpty else { return SyncGroupResponse(errorCode: KafkaErrorCode.invalidGroupId.rawValue) }
        guard let group = coordinator.group(request.groupId) else {
            return SyncGroupResponse(errorCode: KafkaErrorCode.unknownMemberId.rawValue)
        }
        var assignments: [String: ByteBuffer] = [:]
        for entry in request.assignments { assignments[entry.memberId] = entry.assignment }
        let outcome = await group.sync(
            memberId: request.memberId, groupInstanceId: version >= 3 ? request.groupInstanceId : nil,
            generationId: request.generationId, protocolType: version >= 5 ? request.protocolType : nil,
            protocolName: version >= 5 ? request.protocolName : nil, assignments: assignments)
        var response = SyncGroupResponse(errorCode: outcome.error.rawValue, assignment: outcome.assignment)
        if version >= 5 && outcome.error == .noError {
            response.protocolType = outcome.protocolType
            response.protocolName = outcome.protocolName
        }
        return response
    }

    func heartbeat(_ request: HeartbeatRequest) async -> HeartbeatResponse {
        guard !request.groupId.isEmpty else { return HeartbeatResponse(errorCode: KafkaErrorCode.invalidGroupId.rawValue) }
        guard let group = coordinator.group(request.groupId) else {
            return HeartbeatResponse(errorCode: KafkaErrorCode.unknownMemberId.rawValue)
        }
        let error = await group.heartbeat(
            memberId: request.memberId, groupInstanceId: request.groupInstanceId, generationId: request.generationId)
        return HeartbeatResponse(errorCode: error.rawValue)
    }

    func leave(_ request: LeaveGroupRequest, version: Int16) async -> LeaveGroupResponse {
        let leaving: [(memberId: String, groupInstanceId: String?)] = version >= 3
            ? request.members.map { ($0.memberId, $0.groupInstanceId) } : [(request.memberId, nil)]
        var topError = KafkaErrorCode.noError
        var results: [(String, KafkaErrorCode)]
        if request.groupId.isEmpty {
            topError = .invalidGroupId
            results = []
        } else if let group = coordinator.group(request.groupId) {
            (topError, results) = await group.leave(leaving)
        } else {
            results = leaving.map { ($0.memberId, .unknownMemberId) }
        }
        if version < 3 {
            let error = topError != .noError ? topError : results.first?.1 ?? .noError
            return LeaveGroupResponse(errorCode: error.rawValue)
        }
        var response = LeaveGroupResponse(errorCode: topError.rawValue)
        response.members = zip(leaving, results).map { requested, result in
            .init(memberId: requested.memberId, groupInstanceId: requested.groupInstanceId, errorCode: result.1.rawValue)
        }
        return response
    }
}
