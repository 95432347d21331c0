/// Resolves a topic's configuration once: the topic's override, else the broker property that supplies it
/// (Kafka's broker synonyms, in precedence order, converted to the topic config's unit), else the default. The
/// broker level is computed when the resolver is made (with `BrokerConfig`); resolving a topic then only applies
/// its overrides. Produces the typed `TopicConfig` used by handlers and the partitions' `LogConfig`, and the
/// values with their sources that DescribeConfigs and CreateTopics return. A `Sendable` value; thread-safe.
public struct TopicConfigResolver: Sendable {
    public typealias Source = TopicConfigDefinition.ConfigSource

    /// One config's effective value and where it came from.
    public struct Value: Sendable, Equatable {
        public var name: String
        public var value: String
        public var source: Source
    }

    /// Each topic config's value at broker level (a broker property, or the default), in table order.
    public let brokerValues: [Value]
    /// The typed configuration of a topic without overrides.
    public let brokerDefaults: TopicConfig

    /// Resolves the broker level from the broker's properties; a given property whose value is not a valid
    /// value of its topic config is an error with Kafka's wording, naming the broker property.
    public init(properties: [String: String]) throws(BrokerError) {
        var values: [Value] = []
        var defaults = TopicConfig()
        for definition in TopicConfigDefinition.all {
            let (value, source, origin) = Self.brokerLevel(definition, properties: properties)
            switch definition.validated(value) {
            case .success(let parsed):
                defaults.set(definition.name, parsed)
            case .failure(let problem):
                let message = problem.message.replacingOccurrences(
                    of: "for configuration \(definition.name)", with: "for configuration \(origin)")
                throw BrokerError(.configuration, message)
            }
            values.append(Value(name: definition.name, value: value, source: source))
        }
        brokerValues = values
        brokerDefaults = defaults
    }

    /// The first given broker synonym (converted), else the first synonym's default, else Kafka's default;
    /// with the source and the property it came from.
    private static func brokerLevel(
        _ definition: TopicConfigDefinition, properties: [String: String]
    ) -> (String, Source, String) {
        func converted(_ value: String, _ synonym: TopicConfigDefinition.BrokerSynonym) -> String {
            guard synonym.factor != 1, let number = Int64(value.trimmingWhitespace()) else { return value }
            let (product, overflow) = number.multipliedReportingOverflow(by: synonym.factor)
            return String(overflow ? Int64.max : product)
        }
        for synonym in definition.brokerSynonyms {
            if let value = properties[synonym.name] { return (converted(value, synonym), .staticBroker, synonym.name) }
        }
        for synonym in definition.brokerSynonyms {
            if let value = BrokerConfigDefinition.byName[synonym.name]?.defaultValue {
                return (converted(value, synonym), .defaultValue, synonym.name)
            }
        }
        return (definition.defaultValue, .defaultValue, definition.name)
    }

    /// Every config's effective value for a topic with `overrides`, in name order.
    public func values(overrides: [String: String]) -> [Value] {
        brokerValues.map { value in
            overrides[value.name].map { Value(name: value.name, value: $0, source: .topic) } ?? value
        }
    }

    /// The typed configuration of a topic with `overrides`. Stored overrides were validated when set; one that
    /// no longer parses (written by another version) falls back to the broker level instead of failing.
    public func resolve(_ overrides: [String: String]) -> TopicConfig {
        var config = brokerDefaults
        for (name, value) in overrides {
            guard let definition = TopicConfigDefinition.byName[name], case .success(let parsed) = definition.parse(value)
            else { continue }
            config.set(name, parsed)
        }
        return config
    }

    /// Checks a topic's complete set of overrides as Kafka does: known names, values of the right type and range,
    /// then the checks across configs (with the broker level filling in what is not overridden). Returns Kafka's
    /// message for the first problem, or `nil`.
    public func problem(with overrides: [String: String]) -> String? {
        for (name, value) in overrides.sorted(by: { $0.key < $1.key }) {
            if let problem = TopicConfigDefinition.validate(name: name, value: value) { return problem }
        }
        let config = resolve(overrides)
        if config.minCompactionLagMs > config.maxCompactionLagMs {
            return "conflict topic config setting min.compaction.lag.ms (\(config.minCompactionLagMs)) > "
                + "max.compaction.lag.ms (\(config.maxCompactionLagMs))"
        }
        if config.remoteStorageEnable {
            // What a Kafka broker answers when remote.log.storage.system.enable is false; portaskd has no tiered storage.
            return "Tiered Storage functionality is disabled in the broker. Topic cannot be configured with remote log storage."
        }
        return nil
    }
}
