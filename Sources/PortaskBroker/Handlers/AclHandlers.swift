import KafkaProtocol

/// DescribeAcls (key 29), CreateAcls (key 30) and DeleteAcls (key 31), versions 0–3, over the
/// ``StandardAuthorizer``. Without an authorizer (`authorizer.class.name` unset) every answer is
/// SECURITY_DISABLED, as Kafka's. Describing needs DESCRIBE on the cluster, changing needs ALTER, else
/// CLUSTER_AUTHORIZATION_FAILED. Invalid bindings or filters get INVALID_REQUEST. Thread-safe.
struct AclHandlers: Sendable {
    let authorizer: StandardAuthorizer?

    private static let disabledMessage = "No Authorizer is configured on the broker"

    func makeHandlers() -> [ApiHandler] {
        [
            ApiHandler(DescribeAclsRequest.self, response: DescribeAclsResponse.self, versions: 0...3) { request, context in
                self.describe(request, context: context)
            },
            ApiHandler(CreateAclsRequest.self, response: CreateAclsResponse.self, versions: 0...3, blocking: .always) {
                request, context in
                self.create(request, context: context)
            },
            ApiHandler(DeleteAclsRequest.self, response: DeleteAclsResponse.self, versions: 0...3, blocking: .always) {
                request, context in
                self.delete(request, context: context)
            },
        ]
    }

    private func permitted(_ operation: AclOperation, _ context: RequestContext) -> Bool {
        authorizer?.authorize(context.principal, host: context.clientHost, operation, .cluster, AclBinding.clusterName) ?? true
    }

    func describe(_ request: DescribeAclsRequest, context: RequestContext) -> DescribeAclsResponse {
        guard let authorizer else {
            return DescribeAclsResponse(
                errorCode: KafkaErrorCode.securityDisabled.rawValue, errorMessage: Self.disabledMessage, resources: [])
        }
        guard permitted(.describe, context) else {
            return DescribeAclsResponse(
                errorCode: KafkaErrorCode.clusterAuthorizationFailed.rawValue, errorMessage: nil, resources: [])
        }
        let filter = Self.filter(
            request.resourceTypeFilter, request.resourceNameFilter, request.patternTypeFilter, request.principalFilter,
            request.hostFilter, request.operation, request.permissionType)
        if let problem = filter?.validationProblem ?? (filter == nil ? "Invalid ACL filter" : nil) {
            return DescribeAclsResponse(errorCode: KafkaErrorCode.invalidRequest.rawValue, errorMessage: problem, resources: [])
        }
        let found = authorizer.describe(filter!).filter { context.apiVersion >= 1 || $0.patternType == .literal }
        let grouped = Dictionary(grouping: found) { ResourceKey(type: $0.resourceType, name: $0.resourceName, pattern: $0.patternType) }
        let resources = grouped.sorted { ($0.key.type.rawValue, $0.key.name) < ($1.key.type.rawValue, $1.key.name) }.map { key, bindings in
            DescribeAclsResponse.DescribeAclsResource(
                resourceType: key.type.rawValue, resourceName: key.name, patternType: key.pattern.rawValue,
                acls: bindings.map {
                    .init(principal: $0.principal, host: $0.host, operation: $0.operation.rawValue,
                          permissionType: $0.permission.rawValue)
                })
        }
        return DescribeAclsResponse(errorCode: 0, errorMessage: nil, resources: resources)
    }

    func create(_ request: CreateAclsRequest, context: RequestContext) -> CreateAclsResponse {
        func all(_ code: KafkaErrorCode, _ message: String?) -> CreateAclsResponse {
            CreateAclsResponse(results: request.creations.map { _ in .init(errorCode: code.rawValue, errorMessage: message) })
        }
        guard let authorizer else { return all(.securityDisabled, Self.disabledMessage) }
        guard permitted(.alter, context) else { return all(.clusterAuthorizationFailed, nil) }
        var results: [CreateAclsResponse.AclCreationResult] = []
        var valid: [AclBinding] = []
        for creation in request.creations {
            guard let binding = Self.binding(creation) else {
                results.append(.init(errorCode: KafkaErrorCode.invalidRequest.rawValue, errorMessage: "Invalid ACL binding"))
                continue
            }
            if let problem = binding.validationProblem {
                results.append(.init(errorCode: KafkaErrorCode.invalidRequest.rawValue, errorMessage: problem))
                continue
            }
            valid.append(binding)
            results.append(.init(errorCode: 0, errorMessage: nil))
        }
        do {
            try authorizer.create(valid)
        } catch {
            return all(.unknownServerError, "\(error)")
        }
        return CreateAclsResponse(results: results)
    }

    func delete(_ request: DeleteAclsRequest, context: RequestContext) -> DeleteAclsResponse {
        func all(_ code: KafkaErrorCode, _ message: String?) -> DeleteAclsResponse {
            DeleteAclsResponse(filterResults: request.filters.map { _ in
                .init(errorCode: code.rawValue, errorMessage: message, matchingAcls: [])
            })
        }
        guard let authorizer else { return all(.securityDisabled, Self.disabledMessage) }
        guard permitted(.alter, context) else { return all(.clusterAuthorizationFailed, nil) }
        let filters = request.filters.map {
            Self.filter($0.resourceTypeFilter, $0.resourceNameFilter, $0.patternTypeFilter, $0.principalFilter,
                        $0.hostFilter, $0.operation, $0.permissionType)
        }
        let usable = filters.compactMap { $0?.validationProblem == nil ? $0 : nil }
        let removed: [[AclBinding]]
        do {
            removed = try authorizer.delete(usable)
        } catch {
            return all(.unknownServerError, "\(error)")
        }
        var next = removed.makeIterator()
        return DeleteAclsResponse(filterResults: filters.map { filter in
            guard let filter, filter.validationProblem == nil else {
                return .init(
                    errorCode: KafkaErrorCode.invalidRequest.rawValue,
                    errorMessage: filter?.validationProblem ?? "Invalid ACL filter", matchingAcls: [])
            }
            _ = filter
            return .init(errorCode: 0, errorMessage: nil, matchingAcls: (next.next() ?? []).map {
                .init(errorCode: 0, errorMessage: nil, resourceType: $0.resourceType.rawValue, resourceName: $0.resourceName,
                      patternType: $0.patternType.rawValue, principal: $0.principal, host: $0.host,
                      operation: $0.operation.rawValue, permissionType: $0.permission.rawValue)
            })
        })
    }

    private struct ResourceKey: Hashable {
        var type: AclResourceType
        var name: String
        var pattern: AclPatternType
    }

    private static func binding(_ creation: CreateAclsRequest.AclCreation) -> AclBinding? {
        guard let type = AclResourceType(rawValue: creation.resourceType),
            let pattern = AclPatternType(rawValue: creation.resourcePatternType),
            let operation = AclOperation(rawValue: creation.operation),
            let permission = AclPermission(rawValue: creation.permissionType)
        else { return nil }
        return AclBinding(
            resourceType: type, resourceName: creation.resourceName, patternType: pattern, principal: creation.principal,
            host: creation.host, operation: operation, permission: permission)
    }

    private static func filter(
        _ type: Int8, _ name: String?, _ pattern: Int8, _ principal: String?, _ host: String?, _ operation: Int8,
        _ permission: Int8
    ) -> AclFilter? {
        guard let type = AclResourceType(rawValue: type), let pattern = AclPatternType(rawValue: pattern),
            let operation = AclOperation(rawValue: operation), let permission = AclPermission(rawValue: permission)
        else { return nil }
        return AclFilter(
            resourceType: type, resourceName: name, patternType: pattern, principal: principal, host: host,
            operation: operation, permission: permission)
    }
}
