import KafkaProtocol

/// DescribeConfigs (key 32), versions 0–4: the configs of topics (resource type 2: override, broker value or
/// default, with sources DYNAMIC_TOPIC_CONFIG / STATIC_BROKER_CONFIG / DEFAULT_CONFIG) and of this broker
/// (resource type 4: every property portaskd knows, read-only, STATIC_BROKER_CONFIG or DEFAULT_CONFIG).
/// Synonyms (v1+) when asked for, ConfigType and documentation (v3+). Client-metrics subscriptions (type 16)
/// answer the configs set on them with source CLIENT_METRICS_CONFIG (none for an unknown subscription), as
/// Kafka does. Groups (type 32) answer every share group config: the group's own value (DYNAMIC_GROUP_CONFIG)
/// or the broker's (DEFAULT_CONFIG), as Kafka describes them. Broker loggers (type 8) are not served and are answered with INVALID_REQUEST. With an authorizer
/// each resource needs DESCRIBE_CONFIGS (topics on the topic, brokers and subscriptions on the cluster), else
/// Kafka's TOPIC_/CLUSTER_AUTHORIZATION_FAILED. Thread-safe.
struct DescribeConfigsHandler: Sendable {
    let topics: TopicManager
    var access = AccessControl()
    var clientMetrics: ClientMetricsStore? = nil
    var groupConfigs: GroupConfigStore? = nil

    /// Kafka's ConfigSource CLIENT_METRICS_CONFIG.
    static let clientMetricsSource: Int8 = 7

    func makeHandler() -> ApiHandler {
        ApiHandler(DescribeConfigsRequest.self, response: DescribeConfigsResponse.self, versions: 0...4) { request, context in
            self.respond(request, version: context.apiVersion) {
                self.access.configRefusal(context, .describeConfigs, type: $0, name: $1)
            }
        }
    }

    func respond(
        _ request: DescribeConfigsRequest, version: Int16,
        refusal: (Int8, String) -> AdminOutcome? = { _, _ in nil }
    ) -> DescribeConfigsResponse {
        DescribeConfigsResponse(throttleTimeMs: 0, results: request.resources.map { resource in
            if let refused = refusal(resource.resourceType, resource.resourceName) {
                return failed(.init(errorCode: 0, errorMessage: nil, resourceType: resource.resourceType,
                                    resourceName: resource.resourceName), refused)
            }
            return describe(resource, request: request, version: version)
        })
    }

    private func describe(
        _ resource: DescribeConfigsRequest.DescribeConfigsResource, request: DescribeConfigsRequest, version: Int16
    ) -> DescribeConfigsResponse.DescribeConfigsResult {
        var result = DescribeConfigsResponse.DescribeConfigsResult(
            errorCode: 0, errorMessage: nil, resourceType: resource.resourceType, resourceName: resource.resourceName)
        let entries: [ConfigDescriber.Entry]
        switch ConfigResourceType(rawValue: resource.resourceType) {
        case .topic:
            let (topic, outcome) = topics.lookUp(resource.resourceName)
            guard let topic else { return failed(result, outcome) }
            entries = ConfigDescriber.topicEntries(overrides: topic.configs, config: topics.config)
        case .broker:
            let outcome = ConfigResourceType.checkBrokerName(resource.resourceName, nodeId: topics.config.nodeId)
            guard outcome.isSuccess else { return failed(result, outcome) }
            // The empty name asks for cluster-wide dynamic defaults, of which portaskd has none.
            entries = resource.resourceName.isEmpty ? [] : ConfigDescriber.brokerEntries(topics.config)
        case .clientMetrics where clientMetrics != nil:
            guard !resource.resourceName.isEmpty else {
                return failed(result, AdminOutcome(.invalidRequest, "Client metrics subscription name must not be empty"))
            }
            let configs = clientMetrics?.configs(of: resource.resourceName) ?? [:]
            result.configs = configs.sorted { $0.key < $1.key }.map { name, value in
                .init(name: name, value: value, readOnly: false, configSource: Self.clientMetricsSource, isSensitive: false)
            }
            return result
        case .group where groupConfigs != nil:
            guard let groupConfigs, !resource.resourceName.isEmpty else {
                return failed(result, AdminOutcome(.invalidRequest, "Group name must not be empty"))
            }
            entries = Self.groupEntries(groupConfigs, groupId: resource.resourceName)
        default:
            return failed(result, ConfigResourceType.unsupported(resource.resourceType))
        }
        let keys = resource.configurationKeys.flatMap { $0.isEmpty ? nil : Set($0) }
        result.configs = entries.filter { keys?.contains($0.name) ?? true }.map { entry in
            Self.encode(entry, version: version, synonyms: request.includeSynonyms,
                        documentation: request.includeDocumentation)
        }
        return result
    }

    /// The share group configs of a group: its own values, else the broker-wide ones.
    static func groupEntries(_ store: GroupConfigStore, groupId: String) -> [ConfigDescriber.Entry] {
        let own = store.configs(of: groupId)
        return GroupConfigStore.names.map { name in
            let type: BrokerConfigDefinition.ValueType = name == GroupConfigStore.autoOffsetReset ? .string : .int
            return ConfigDescriber.Entry(
                name: name, value: own[name] ?? store.bounds.defaults[name],
                source: own[name] != nil ? .dynamicGroup : .defaultValue, readOnly: false, isSensitive: false,
                type: type, documentation: nil, synonyms: [])
        }
    }

    private func failed(
        _ result: DescribeConfigsResponse.DescribeConfigsResult, _ outcome: AdminOutcome
    ) -> DescribeConfigsResponse.DescribeConfigsResult {
        var failed = result
        failed.errorCode = outcome.code.rawValue
        failed.errorMessage = outcome.message
        return failed
    }

    static func encode(
        _ entry: ConfigDescriber.Entry, version: Int16, synonyms: Bool, documentation: Bool
    ) -> DescribeConfigsResponse.DescribeConfigsResourceResult {
        var result = DescribeConfigsResponse.DescribeConfigsResourceResult(
            name: entry.name, value: entry.isSensitive ? nil : entry.value, readOnly: entry.readOnly,
            configSource: entry.source.rawValue, isSensitive: entry.isSensitive,
            configType: ConfigDescriber.typeCode(entry.type), documentation: documentation ? entry.documentation : nil)
        // IsDefault exists in version 0 only.
        if version == 0 { result.isDefault = entry.source == .defaultValue }
        if synonyms && version >= 1 {
            result.synonyms = entry.synonyms.map { .init(name: $0.name, value: $0.value, source: $0.source.rawValue) }
        }
        return result
    }
}
