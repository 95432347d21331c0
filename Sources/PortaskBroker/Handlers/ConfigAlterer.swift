import KafkaProtocol
import LogEngine

/// The common part of AlterConfigs and IncrementalAlterConfigs: computes a topic's new overrides from the
/// requested changes, validates them with Kafka's messages and applies them to the topic (persisted, and live
/// on its partition logs). Broker resources are refused, as portaskd's broker configs are static. Thread-safe.
struct ConfigAlterer: Sendable {
    let topics: TopicManager
    /// Where client-metrics subscriptions (resource type 16) are altered; nil refuses that type.
    var clientMetrics: ClientMetricsStore? = nil
    /// Where group configs (resource type 32) are altered; nil refuses that type.
    var groupConfigs: GroupConfigStore? = nil

    static let attempts = 16

    /// IncrementalAlterConfigs' operations.
    enum Operation: Int8 {
        case set = 0, delete = 1, append = 2, subtract = 3
    }

    /// One requested change of a config.
    struct Change {
        var name: String
        var operation: Int8
        var value: String?
    }

    /// One resource of a request.
    struct Resource {
        var type: Int8
        var name: String
        var changes: [Change]
    }

    /// Alters every resource of a request, in order; a resource named twice is refused both times, as Kafka does.
    /// `refusal` is the authorizer's answer for a resource (type, name), nil when allowed.
    func alter(
        _ resources: [Resource], replace: Bool, validateOnly: Bool,
        refusal: (Int8, String) -> AdminOutcome? = { _, _ in nil }
    ) -> [AdminOutcome] {
        var counts: [String: Int] = [:]
        for resource in resources { counts["\(resource.type)/\(resource.name)", default: 0] += 1 }
        return resources.map { resource in
            guard counts["\(resource.type)/\(resource.name)", default: 0] == 1 else {
                return AdminOutcome(.invalidRequest, "Each resource must appear at most once.")
            }
            if let refused = refusal(resource.type, resource.name) { return refused }
            return alter(type: resource.type, name: resource.name, changes: resource.changes, replace: replace,
                         validateOnly: validateOnly)
        }
    }

    /// Alters one resource. `replace` is AlterConfigs' semantics (the given configs become the whole set of
    /// overrides); otherwise each change is applied to the current overrides.
    func alter(type: Int8, name: String, changes: [Change], replace: Bool, validateOnly: Bool) -> AdminOutcome {
        var seen = Set<String>()
        for change in changes where !seen.insert(change.name).inserted {
            return AdminOutcome(.invalidRequest, "Error due to duplicate config keys")
        }
        let nulls = changes.filter { $0.value == nil && (replace || $0.operation != Operation.delete.rawValue) }
        if !nulls.isEmpty {
            return AdminOutcome(.invalidRequest, "Null value not supported for : \(nulls.map(\.name).joined(separator: ", "))")
        }
        switch ConfigResourceType(rawValue: type) {
        case .broker:
            if !name.isEmpty {
                guard let id = Int32(name) else {
                    return AdminOutcome(.invalidRequest, "Node id must be an integer, but it is: \(name)")
                }
                guard id == topics.config.nodeId else {
                    return AdminOutcome(.invalidRequest, "Unexpected broker id, expected \(topics.config.nodeId), but received \(name)")
                }
            }
            if changes.isEmpty { return .success }
            let names = changes.map(\.name).sorted().joined(separator: ", ")
            return AdminOutcome(.invalidRequest,
                "Cannot update these configs dynamically: \(names). portaskd reads broker configs at start-up only "
                    + "(server.properties, environment, --override); change them there and restart.")
        case .topic:
            // Compare-and-set, so concurrent incremental changes of one topic are not lost.
            for _ in 0..<Self.attempts {
                let (topic, outcome) = topics.lookUp(name)
                guard let topic else { return outcome }
                let updated: [String: String]
                switch replace ? replacing(changes) : applying(changes, to: topic.configs) {
                case .failure(let outcome): return outcome
                case .success(let configs): updated = configs
                }
                let validation = Self.validate(updated, broker: topics.config)
                guard validation.isSuccess, !validateOnly else { return validation }
                do {
                    if try topics.setConfigs(name: name, configs: updated, expected: topic.configs) { return .success }
                } catch {
                    return topics.topic(named: name) == nil
                        ? AdminOutcome(.unknownTopicOrPartition, "The topic '\(name)' does not exist.")
                        : AdminOutcome(.unknownServerError, "\(error)")
                }
            }
            return AdminOutcome(.unknownServerError, "The configs of topic '\(name)' kept changing; try again.")
        case .clientMetrics:
            guard let clientMetrics else { return ConfigResourceType.unsupported(type) }
            return clientMetrics.alter(name: name, changes: changes, replace: replace, validateOnly: validateOnly)
        case .group:
            guard let groupConfigs else { return ConfigResourceType.unsupported(type) }
            return groupConfigs.alter(groupId: name, changes: changes, replace: replace, validateOnly: validateOnly)
        case .brokerLogger:
            return ConfigResourceType.unsupported(type)
        case nil:
            return AdminOutcome(.invalidRequest, "Unknown resource type \(type)")
        }
    }

    /// Checks a topic's complete set of overrides: known names, valid values, and a log configuration the
    /// partition logs can run with. Returns INVALID_CONFIG with Kafka's message for the first problem.
    static func validate(_ configs: [String: String], broker: BrokerConfig) -> AdminOutcome {
        if let problem = broker.topicConfigResolver.problem(with: configs) {
            return AdminOutcome(.invalidConfig, problem)
        }
        if let problem = PartitionLog.problem(with: broker.logConfig(overrides: configs)) {
            return AdminOutcome(.invalidConfig, problem)
        }
        return .success
    }

    private enum Computed {
        case success([String: String])
        case failure(AdminOutcome)
    }

    private func replacing(_ changes: [Change]) -> Computed {
        var configs: [String: String] = [:]
        for change in changes { configs[change.name] = change.value }
        return .success(configs)
    }

    private func applying(_ changes: [Change], to current: [String: String]) -> Computed {
        var configs = current
        for change in changes {
            guard let definition = TopicConfigDefinition.byName[change.name] else {
                return .failure(AdminOutcome(.invalidConfig, "Unknown topic config name: \(change.name)"))
            }
            switch Operation(rawValue: change.operation) {
            case .set:
                configs[change.name] = change.value
            case .delete:
                configs.removeValue(forKey: change.name)
            case .append, .subtract:
                let verb = change.operation == Operation.append.rawValue ? "APPEND" : "SUBTRACT"
                guard definition.type == .list else {
                    return .failure(AdminOutcome(.invalidConfig, "Can't \(verb) to key \(change.name) because its type is not LIST."))
                }
                let base = configs[change.name] ?? effectiveValue(change.name, overrides: configs) ?? ""
                var items = Self.listItems(base)
                for item in Self.listItems(change.value ?? "") {
                    if verb == "APPEND" {
                        if !items.contains(item) { items.append(item) }
                    } else {
                        items.removeAll { $0 == item }
                    }
                }
                configs[change.name] = items.joined(separator: ",")
            case nil:
                return .failure(AdminOutcome(.invalidRequest, "Unknown operation type \(change.operation) for config \(change.name)"))
            }
        }
        return .success(configs)
    }

    private func effectiveValue(_ name: String, overrides: [String: String]) -> String? {
        topics.config.topicConfigResolver.values(overrides: overrides).first { $0.name == name }?.value
    }

    static func listItems(_ value: String) -> [String] {
        TopicConfigDefinition.listItems(value)
    }
}
