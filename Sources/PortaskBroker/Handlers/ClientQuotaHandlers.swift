import KafkaProtocol

/// DescribeClientQuotas (key 48, v0–1) and AlterClientQuotas (key 49, v0–1) over the `ClientQuotaStore`, whose
/// changes take effect at once in the `ClientQuotaEnforcer`. With an authorizer describing needs DESCRIBE_CONFIGS
/// and altering ALTER_CONFIGS on the cluster, else CLUSTER_AUTHORIZATION_FAILED, as Kafka checks them.
/// Thread-safe.
struct ClientQuotaHandlers: Sendable {
    let store: ClientQuotaStore
    var access = AccessControl()

    func makeHandlers() -> [ApiHandler] {
        [
            ApiHandler(DescribeClientQuotasRequest.self, response: DescribeClientQuotasResponse.self, versions: 0...1) {
                request, context in
                guard access.allowsCluster(context, .describeConfigs) else {
                    return DescribeClientQuotasResponse(
                        errorCode: KafkaErrorCode.clusterAuthorizationFailed.rawValue,
                        errorMessage: "Cluster authorization failed.", entries: nil)
                }
                return store.describe(request)
            },
            // The quota file is written and fsynced: off the event loop.
            ApiHandler(
                AlterClientQuotasRequest.self, response: AlterClientQuotasResponse.self, versions: 0...1, blocking: .always
            ) { request, context in
                guard access.allowsCluster(context, .alterConfigs) else {
                    return AlterClientQuotasResponse(entries: request.entries.map { entry in
                        .init(
                            errorCode: KafkaErrorCode.clusterAuthorizationFailed.rawValue,
                            errorMessage: "Cluster authorization failed.",
                            entity: entry.entity.map { .init(entityType: $0.entityType, entityName: $0.entityName) })
                    })
                }
                return try store.alter(request)
            },
        ]
    }
}
