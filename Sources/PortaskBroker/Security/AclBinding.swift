/// Kafka's ACL vocabulary with its wire numbers: resource types, pattern types, operations and permissions,
/// and one ACL binding (a resource pattern with an access-control entry). Values; thread-safe.
public enum AclResourceType: Int8, Sendable, Codable, CaseIterable {
    case unknown = 0, any = 1, topic = 2, group = 3, cluster = 4, transactionalId = 5, delegationToken = 6, user = 7
}

public enum AclPatternType: Int8, Sendable, Codable {
    case unknown = 0, any = 1, match = 2, literal = 3, prefixed = 4
}

public enum AclOperation: Int8, Sendable, Codable {
    case unknown = 0, any = 1, all = 2, read = 3, write = 4, create = 5, delete = 6, alter = 7, describe = 8
    case clusterAction = 9, describeConfigs = 10, alterConfigs = 11, idempotentWrite = 12, createTokens = 13
    case describeTokens = 14, twoPhaseCommit = 15
}

public enum AclPermission: Int8, Sendable, Codable {
    case unknown = 0, any = 1, deny = 2, allow = 3
}

/// One stored ACL: `principal` is `Type:name` (`User:*` for everyone), `host` an IP address or `*`.
public struct AclBinding: Sendable, Hashable, Codable {
    public var resourceType: AclResourceType
    public var resourceName: String
    public var patternType: AclPatternType
    public var principal: String
    public var host: String
    public var operation: AclOperation
    public var permission: AclPermission

    public init(
        resourceType: AclResourceType, resourceName: String, patternType: AclPatternType, principal: String,
        host: String, operation: AclOperation, permission: AclPermission
    ) {
        self.resourceType = resourceType
        self.resourceName = resourceName
        self.patternType = patternType
        self.principal = principal
        self.host = host
        self.operation = operation
        self.permission = permission
    }

    /// The name of the one cluster resource.
    public static let clusterName = "kafka-cluster"
    /// The wildcard resource name, principal and host.
    public static let wildcard = "*"

    /// Kafka's validation of a new binding; the message of INVALID_REQUEST when it is not acceptable.
    public var validationProblem: String? {
        if [.unknown, .any].contains(resourceType) { return "Invalid resourceType \(resourceType)" }
        if ![.literal, .prefixed].contains(patternType) { return "Invalid patternType \(patternType)" }
        if [.unknown, .any].contains(operation) { return "Invalid operation \(operation)" }
        if [.unknown, .any].contains(permission) { return "Invalid permissionType \(permission)" }
        if resourceName.isEmpty { return "Resource name should not be empty" }
        if KafkaPrincipal(parsing: principal) == nil { return "Could not parse principal from `\(principal)` (no colon is present separating the principal type from the principal name)" }
        if host.isEmpty { return "Host should not be empty" }
        if resourceType == .cluster, resourceName != Self.clusterName {
            return "The only valid name for the CLUSTER resource is \(Self.clusterName)"
        }
        if resourceType == .cluster, patternType != .literal { return "Cluster resource can only use LITERAL pattern" }
        return nil
    }

    /// Whether this binding's pattern covers the resource `name` (LITERAL: equal or `*`; PREFIXED: a prefix).
    func covers(_ name: String) -> Bool {
        switch patternType {
        case .literal: resourceName == name || resourceName == Self.wildcard
        case .prefixed: name.hasPrefix(resourceName)
        default: false
        }
    }
}

/// A filter over bindings, as DescribeAcls and DeleteAcls carry it: `any`/`nil` fields match everything;
/// pattern type MATCH selects the bindings that would apply to the named resource.
public struct AclFilter: Sendable {
    public var resourceType: AclResourceType
    public var resourceName: String?
    public var patternType: AclPatternType
    public var principal: String?
    public var host: String?
    public var operation: AclOperation
    public var permission: AclPermission

    public init(
        resourceType: AclResourceType, resourceName: String?, patternType: AclPatternType, principal: String?,
        host: String?, operation: AclOperation, permission: AclPermission
    ) {
        self.resourceType = resourceType
        self.resourceName = resourceName
        self.patternType = patternType
        self.principal = principal
        self.host = host
        self.operation = operation
        self.permission = permission
    }

    /// Why the filter cannot be used (unknown enum values), or `nil`.
    public var validationProblem: String? {
        if resourceType == .unknown { return "Invalid resource type filter" }
        if patternType == .unknown { return "Invalid pattern type filter" }
        if operation == .unknown { return "Invalid operation filter" }
        if permission == .unknown { return "Invalid permission type filter" }
        return nil
    }

    public func matches(_ binding: AclBinding) -> Bool {
        if resourceType != .any, resourceType != binding.resourceType { return false }
        if let principal, principal != binding.principal { return false }
        if let host, host != binding.host { return false }
        if operation != .any, operation != binding.operation { return false }
        if permission != .any, permission != binding.permission { return false }
        switch patternType {
        case .any:
            return resourceName.map { $0 == binding.resourceName } ?? true
        case .match:
            guard let resourceName else { return true }
            return binding.covers(resourceName)
        default:
            if patternType != binding.patternType { return false }
            return resourceName.map { $0 == binding.resourceName } ?? true
        }
    }
}
