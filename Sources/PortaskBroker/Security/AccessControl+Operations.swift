import KafkaProtocol

/// The `authorized_operations` bit fields Kafka reports, and the refusals of config resources, computed from
/// ``AccessControl``. Values; thread-safe.
extension AccessControl {
    /// The operations Kafka defines for each resource type (`AclEntry.supportedOperations`).
    static func supportedOperations(_ type: AclResourceType) -> [AclOperation] {
        switch type {
        case .topic: [.read, .write, .create, .describe, .delete, .alter, .describeConfigs, .alterConfigs]
        case .group: [.read, .describe, .delete, .describeConfigs, .alterConfigs]
        case .cluster: [.create, .clusterAction, .describeConfigs, .alterConfigs, .idempotentWrite, .alter, .describe]
        case .transactionalId: [.describe, .write, .twoPhaseCommit]
        case .delegationToken: [.describe]
        case .user: [.createTokens, .describeTokens]
        default: []
        }
    }

    /// The operations the request's principal may perform on the resource, as a bit field (bit n = operation
    /// code n); all supported ones without an authorizer.
    func authorizedOperations(_ context: RequestContext, _ type: AclResourceType, _ name: String) -> Int32 {
        Self.supportedOperations(type).reduce(Int32(0)) { bits, operation in
            allows(context, operation, type, name) ? bits | (1 << Int32(operation.rawValue)) : bits
        }
    }

    /// The cluster's authorized operations for the request's principal.
    func clusterAuthorizedOperations(_ context: RequestContext) -> Int32 {
        authorizedOperations(context, .cluster, AclBinding.clusterName)
    }

    /// Kafka's refusal of a config resource (DescribeConfigs with DESCRIBE_CONFIGS, the alter APIs with
    /// ALTER_CONFIGS): topics need the operation on the topic (TOPIC_AUTHORIZATION_FAILED), groups on the group
    /// (GROUP_AUTHORIZATION_FAILED), brokers, broker loggers and client-metrics resources on the cluster
    /// (CLUSTER_AUTHORIZATION_FAILED). Nil when allowed; unknown types are left to the handler's own error.
    func configRefusal(_ context: RequestContext, _ operation: AclOperation, type: Int8, name: String) -> AdminOutcome? {
        guard isEnabled else { return nil }
        switch type {
        case ConfigResourceType.topic.rawValue:
            return allows(context, operation, .topic, name)
                ? nil : AdminOutcome(.topicAuthorizationFailed, "Topic authorization failed.")
        case Self.groupConfigResource:
            return allows(context, operation, .group, name)
                ? nil : AdminOutcome(.groupAuthorizationFailed, "Group authorization failed.")
        case ConfigResourceType.broker.rawValue, ConfigResourceType.brokerLogger.rawValue, Self.clientMetricsConfigResource:
            return allowsCluster(context, operation)
                ? nil : AdminOutcome(.clusterAuthorizationFailed, "Cluster authorization failed.")
        default:
            return nil
        }
    }

    /// Kafka's config resource types for client metrics (16) and groups (32).
    static let clientMetricsConfigResource: Int8 = 16
    static let groupConfigResource: Int8 = 32
}
