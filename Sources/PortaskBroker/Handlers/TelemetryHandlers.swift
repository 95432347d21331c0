import KafkaProtocol

/// GetTelemetrySubscriptions (key 71, v0) and PushTelemetry (key 72, v0) over `ClientTelemetry`, and
/// ListConfigResources (key 74, v0–1): v0 lists the client-metrics subscriptions (Kafka's former
/// ListClientMetricsResources); v1 lists the config resources of the types asked for (all served types when
/// none): topics (2), this broker (4) and client-metrics subscriptions (16); any other type gets
/// UNSUPPORTED_VERSION, as Kafka answers types it does not serve. ListConfigResources needs DESCRIBE_CONFIGS on
/// the cluster (CLUSTER_AUTHORIZATION_FAILED otherwise). Thread-safe.
struct TelemetryHandlers: Sendable {
    let telemetry: ClientTelemetry
    let subscriptions: ClientMetricsStore
    let topics: TopicManager
    let access: AccessControl

    static let servedResourceTypes: [Int8] = [
        ConfigResourceType.topic.rawValue, ConfigResourceType.broker.rawValue, ConfigResourceType.clientMetrics.rawValue,
    ]

    func makeHandlers() -> [ApiHandler] {
        [
            ApiHandler(
                GetTelemetrySubscriptionsRequest.self, response: GetTelemetrySubscriptionsResponse.self, versions: 0...0
            ) { request, context in
                self.telemetry.getSubscriptions(request, client: Self.client(context), nowMs: ProduceHandler.nowMs())
            },
            // Decompressing the pushed metrics is work in proportion to client input: off the event loop.
            ApiHandler(
                PushTelemetryRequest.self, response: PushTelemetryResponse.self, versions: 0...0, blocking: .always
            ) { request, context in
                self.telemetry.push(request, client: Self.client(context), nowMs: ProduceHandler.nowMs())
            },
            ApiHandler(ListConfigResourcesRequest.self, response: ListConfigResourcesResponse.self, versions: 0...1) {
                request, context in
                self.list(request, version: context.apiVersion, authorized: self.access.allowsCluster(context, .describeConfigs))
            },
        ]
    }

    static func client(_ context: RequestContext) -> ClientTelemetry.Client {
        let address = context.clientHost
        let port = context.clientAddress.lastIndex(of: ":").map { String(context.clientAddress[context.clientAddress.index(after: $0)...]) } ?? ""
        return ClientTelemetry.Client(
            clientId: context.clientId ?? "", softwareName: context.clientSoftwareName,
            softwareVersion: context.clientSoftwareVersion, address: address, port: port)
    }

    func list(_ request: ListConfigResourcesRequest, version: Int16, authorized: Bool) -> ListConfigResourcesResponse {
        guard authorized else {
            return ListConfigResourcesResponse(errorCode: KafkaErrorCode.clusterAuthorizationFailed.rawValue)
        }
        let clientMetrics = ConfigResourceType.clientMetrics.rawValue
        var types = version == 0 ? [clientMetrics] : request.resourceTypes
        if types.isEmpty { types = Self.servedResourceTypes }
        if types.contains(where: { !Self.servedResourceTypes.contains($0) }) {
            return ListConfigResourcesResponse(errorCode: KafkaErrorCode.unsupportedVersion.rawValue)
        }
        var resources: [ListConfigResourcesResponse.ConfigResource] = []
        let wanted = Set(types)
        if wanted.contains(ConfigResourceType.topic.rawValue) {
            resources += topics.allTopics().map { .init(resourceName: $0.name, resourceType: ConfigResourceType.topic.rawValue) }
        }
        if wanted.contains(ConfigResourceType.broker.rawValue) {
            resources.append(.init(resourceName: String(topics.config.nodeId), resourceType: ConfigResourceType.broker.rawValue))
        }
        if wanted.contains(clientMetrics) {
            resources += subscriptions.names.map { .init(resourceName: $0, resourceType: clientMetrics) }
        }
        return ListConfigResourcesResponse(errorCode: 0, configResources: resources)
    }
}
