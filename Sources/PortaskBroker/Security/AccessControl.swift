import KafkaProtocol

/// The authorization check handlers make: everything is allowed without an authorizer, else the
/// ``StandardAuthorizer`` decides for the request's principal and client host. A value; thread-safe.
struct AccessControl: Sendable {
    var authorizer: StandardAuthorizer?

    init(authorizer: StandardAuthorizer? = nil) {
        self.authorizer = authorizer
    }

    /// Whether a check can fail at all (an authorizer is configured).
    var isEnabled: Bool { authorizer != nil }

    func allows(_ context: RequestContext, _ operation: AclOperation, _ type: AclResourceType, _ name: String) -> Bool {
        guard let authorizer else { return true }
        return authorizer.authorize(context.principal, host: context.clientHost, operation, type, name)
    }

    func allowsCluster(_ context: RequestContext, _ operation: AclOperation) -> Bool {
        allows(context, operation, .cluster, AclBinding.clusterName)
    }

    /// Whether the principal may perform `operation` on some resource of `type`.
    func allowsAny(_ context: RequestContext, _ operation: AclOperation, _ type: AclResourceType) -> Bool {
        guard let authorizer else { return true }
        return authorizer.authorizeAny(context.principal, host: context.clientHost, operation, type)
    }
}
