import KafkaProtocol

/// AlterConfigs (key 33), versions 0–2: replaces a topic's whole set of config overrides (validated with
/// Kafka's INVALID_CONFIG messages; validateOnly checks without changing anything). The change is persisted and
/// takes effect on the topic's partition logs at once. Broker configs are static in portaskd, so changing a
/// broker resource is answered with INVALID_REQUEST and a message saying so. With an authorizer each resource needs ALTER_CONFIGS (topics
/// on the topic, brokers on the cluster), else Kafka's TOPIC_/CLUSTER_AUTHORIZATION_FAILED. Thread-safe.
struct AlterConfigsHandler: Sendable {
    let alterer: ConfigAlterer
    var access = AccessControl()

    func makeHandler() -> ApiHandler {
        ApiHandler(AlterConfigsRequest.self, response: AlterConfigsResponse.self, versions: 0...2, blocking: .always) { request, context in
            // The new overrides are written and fsynced before the answer.
            self.respond(request) { self.access.configRefusal(context, .alterConfigs, type: $0, name: $1) }
        }
    }

    func respond(_ request: AlterConfigsRequest, refusal: (Int8, String) -> AdminOutcome? = { _, _ in nil }) -> AlterConfigsResponse {
        let outcomes = alterer.alter(request.resources.map { resource in
            ConfigAlterer.Resource(type: resource.resourceType, name: resource.resourceName, changes: resource.configs.map {
                .init(name: $0.name, operation: ConfigAlterer.Operation.set.rawValue, value: $0.value)
            })
        }, replace: true, validateOnly: request.validateOnly, refusal: refusal)
        return AlterConfigsResponse(throttleTimeMs: 0, responses: zip(request.resources, outcomes).map { resource, outcome in
            .init(errorCode: outcome.code.rawValue, errorMessage: outcome.message, resourceType: resource.resourceType,
                  resourceName: resource.resourceName)
        })
    }
}
