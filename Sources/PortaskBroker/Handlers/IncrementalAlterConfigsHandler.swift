import KafkaProtocol

/// IncrementalAlterConfigs (key 44), versions 0–1: SET, DELETE, APPEND and SUBTRACT (the last two for
/// list-type configs such as cleanup.policy) on a topic's config overrides, validated with Kafka's messages;
/// validateOnly checks without changing anything. The change is persisted and takes effect on the topic's
/// partition logs at once. Broker configs are static in portaskd, so changing a broker resource is answered
/// with INVALID_REQUEST and a message saying so. With an authorizer each resource needs ALTER_CONFIGS (topics
/// on the topic, brokers on the cluster), else Kafka's TOPIC_/CLUSTER_AUTHORIZATION_FAILED. Thread-safe.
struct IncrementalAlterConfigsHandler: Sendable {
    let alterer: ConfigAlterer
    var access = AccessControl()

    func makeHandler() -> ApiHandler {
        ApiHandler(IncrementalAlterConfigsRequest.self, response: IncrementalAlterConfigsResponse.self, versions: 0...1, blocking: .always) { request, context in
            // The new overrides are written and fsynced before the answer.
            self.respond(request) { self.access.configRefusal(context, .alterConfigs, type: $0, name: $1) }
        }
    }

    func respond(_ request: IncrementalAlterConfigsRequest, refusal: (Int8, String) -> AdminOutcome? = { _, _ in nil }) -> IncrementalAlterConfigsResponse {
        let outcomes = alterer.alter(request.resources.map { resource in
            ConfigAlterer.Resource(type: resource.resourceType, name: resource.resourceName, changes: resource.configs.map {
                .init(name: $0.name, operation: $0.configOperation, value: $0.value)
            })
        }, replace: false, validateOnly: request.validateOnly, refusal: refusal)
        return IncrementalAlterConfigsResponse(throttleTimeMs: 0, responses: zip(request.resources, outcomes).map { resource, outcome in
            .init(errorCode: outcome.code.rawValue, errorMessage: outcome.message, resourceType: resource.resourceType,
                  resourceName: resource.resourceName)
        })
    }
}
