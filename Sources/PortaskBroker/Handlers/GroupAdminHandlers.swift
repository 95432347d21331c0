import KafkaProtocol

/// DescribeGroups (key 15, v0–6; v6 answers a missing or non-classic group GROUP_ID_NOT_FOUND with a message,
/// KIP-1043; before v6 such a group is Dead), ListGroups (key 16, v0–5, state filter v4+, type filter v5+:
/// classic, consumer, share) and DeleteGroups (key 42, v0–2) over the `GroupCoordinator`. With an authorizer, as
/// Kafka checks them: describing a group needs DESCRIBE on it and deleting DELETE (else
/// GROUP_AUTHORIZATION_FAILED); listing shows every group to DESCRIBE on the cluster, else only the groups the
/// principal may DESCRIBE. Thread-safe.
struct GroupAdminHandlers: Sendable {
    let coordinator: GroupCoordinator
    var access = AccessControl()

    /// The operations a group resource supports (READ 3, DELETE 6, DESCRIBE 8, DESCRIBE_CONFIGS 10,
    /// ALTER_CONFIGS 11), all allowed without an authorizer, as Kafka reports them when asked.
    static let groupAuthorizedOperations: Int32 = [3, 6, 8, 10, 11].reduce(0) { $0 | (1 << $1) }

    /// The first DescribeGroups version that reports a missing group as GROUP_ID_NOT_FOUND with a message.
    static let firstErrorMessageVersion: Int16 = 6

    func makeHandlers() -> [ApiHandler] {
        [
            ApiHandler(DescribeGroupsRequest.self, response: DescribeGroupsResponse.self, versions: 0...6) { request, context in
                await self.describe(
                    request, version: context.apiVersion,
                    allowed: { self.access.allows(context, .describe, .group, $0) },
                    operations: { self.access.authorizedOperations(context, .group, $0) })
            },
            ApiHandler(ListGroupsRequest.self, response: ListGroupsResponse.self, versions: 0...5) { request, context in
                let everyGroup = self.access.allowsCluster(context, .describe)
                return await self.list(request, version: context.apiVersion) {
                    everyGroup || self.access.allows(context, .describe, .group, $0)
                }
            },
            ApiHandler(DeleteGroupsRequest.self, response: DeleteGroupsResponse.self, versions: 0...2) { request, context in
                var results: [DeleteGroupsResponse.DeletableGroupResult] = []
                for groupId in request.groupsNames {
                    var error = KafkaErrorCode.groupAuthorizationFailed
                    if self.access.allows(context, .delete, .group, groupId) {
                        error = await self.coordinator.deleteGroup(groupId)
                    }
                    results.append(.init(groupId: groupId, errorCode: error.rawValue))
                }
                return DeleteGroupsResponse(results: results)
            },
        ]
    }

    /// DescribeGroups: each distinct group id is described once per request (a repeated id reuses the answer),
    /// so the work is bounded by the distinct ids, not by how often a large group is named.
    func describe(
        _ request: DescribeGroupsRequest, version: Int16, allowed: (String) -> Bool = { _ in true },
        operations groupOperations: (String) -> Int32 = { _ in Self.groupAuthorizedOperations }
    ) async -> DescribeGroupsResponse {
        let includeOperations = version >= 3 && request.includeAuthorizedOperations
        var groups: [DescribeGroupsResponse.DescribedGroup] = []
        var described: [String: DescribeGroupsResponse.DescribedGroup] = [:]
        for groupId in request.groups {
            if let known = described[groupId] {
                groups.append(known)
                continue
            }
            guard allowed(groupId) else {
                let refused = DescribeGroupsResponse.DescribedGroup(
                    errorCode: KafkaErrorCode.groupAuthorizationFailed.rawValue, groupId: groupId, groupState: "",
                    protocolType: "", protocolData: "")
                described[groupId] = refused
                groups.append(refused)
                continue
            }
            let operations = includeOperations ? groupOperations(groupId) : MetadataHandler.authorizedOperationsNotRequested
            let group = await describe(groupId, version: version, operations: operations)
            described[groupId] = group
            groups.append(group)
        }
        return DescribeGroupsResponse(groups: groups)
    }

    private func describe(_ groupId: String, version: Int16, operations: Int32) async -> DescribeGroupsResponse.DescribedGroup {
        guard !groupId.isEmpty else {
            return .init(
                errorCode: KafkaErrorCode.invalidGroupId.rawValue, groupId: groupId, groupState: "",
                authorizedOperations: operations)
        }
        if await coordinator.hasConsumerMembers(groupId) {
            // A consumer-protocol group is not a classic group: Kafka's coordinator answers it as a missing one,
            // with its reason from v6 on (ConsumerGroupDescribe describes it).
            return missing(groupId, version: version, operations: operations, message: "Group \(groupId) is not a classic group.")
        }
        guard let summary = await coordinator.group(groupId)?.summary() else {
            return missing(groupId, version: version, operations: operations, message: "Group \(groupId) not found.")
        }
        return .init(
            groupId: groupId, groupState: summary.state.rawValue, protocolType: summary.protocolType,
            protocolData: summary.protocolData,
            members: summary.members.map {
                .init(
                    memberId: $0.memberId, groupInstanceId: version >= 4 ? $0.groupInstanceId : nil,
                    clientId: $0.clientId, clientHost: $0.clientHost, memberMetadata: $0.metadata,
                    memberAssignment: $0.assignment)
            },
            authorizedOperations: operations)
    }

    /// A group the classic API cannot describe: Dead before v6, GROUP_ID_NOT_FOUND with `message` from v6 on.
    private func missing(
        _ groupId: String, version: Int16, operations: Int32, message: String
    ) -> DescribeGroupsResponse.DescribedGroup {
        var missing = DescribeGroupsResponse.DescribedGroup(
            groupId: groupId, groupState: GroupState.dead.rawValue, authorizedOperations: operations)
        if version >= Self.firstErrorMessageVersion {
            missing.errorCode = KafkaErrorCode.groupIdNotFound.rawValue
            missing.errorMessage = message
        }
        return missing
    }

    func list(
        _ request: ListGroupsRequest, version: Int16, visible: (String) -> Bool = { _ in true }
    ) async -> ListGroupsResponse {
        let states = Set((version >= 4 ? request.statesFilter : []).map { $0.lowercased() })
        let types = Set((version >= 5 ? request.typesFilter : []).map { $0.lowercased() })
        var listed: [ListGroupsResponse.ListedGroup] = []
        var consumerIds = Set<String>()
        for (id, group) in coordinator.consumerGroups.withLockedValue({ $0 }).sorted(by: { $0.key < $1.key }) {
            let state = await group.state
            guard state != .dead else { continue }
            consumerIds.insert(id)
            guard visible(id) else { continue }
            guard types.isEmpty || types.contains("consumer") else { continue }
            guard states.isEmpty || states.contains(state.rawValue.lowercased()) else { continue }
            var entry = ListGroupsResponse.ListedGroup(groupId: id, protocolType: "consumer")
            if version >= 4 { entry.groupState = state.rawValue }
            if version >= 5 { entry.groupType = "consumer" }
            listed.append(entry)
        }
        if types.isEmpty || types.contains("share") {
            for (id, group) in coordinator.shareGroups.withLockedValue({ $0 }).sorted(by: { $0.key < $1.key }) where visible(id) {
                let state = await group.state
                guard state != "Dead", states.isEmpty || states.contains(state.lowercased()) else { continue }
                var entry = ListGroupsResponse.ListedGroup(groupId: id, protocolType: "share")
                if version >= 4 { entry.groupState = state }
                if version >= 5 { entry.groupType = "share" }
                listed.append(entry)
            }
        }
        guard types.isEmpty || types.contains("classic") else {
            return ListGroupsResponse(groups: listed.sorted { $0.groupId < $1.groupId })
        }
        for (id, group) in coordinator.allGroups() where !consumerIds.contains(id) && visible(id) {
            let summary = await group.summary()
            guard summary.state != .dead else { continue }
            guard states.isEmpty || states.contains(summary.state.rawValue.lowercased()) else { continue }
            var entry = ListGroupsResponse.ListedGroup(groupId: id, protocolType: summary.protocolType)
            if version >= 4 { entry.groupState = summary.state.rawValue }
            if version >= 5 { entry.groupType = "classic" }
            listed.append(entry)
        }
        return ListGroupsResponse(groups: listed.sorted { $0.groupId < $1.groupId })
    }
}
