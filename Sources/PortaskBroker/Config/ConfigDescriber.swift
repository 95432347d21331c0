/// Describes broker and topic configuration the way Kafka's DescribeConfigs does: each entry's effective value,
/// its source, its synonyms (the properties that could supply it, in order of precedence), type, flags and
/// documentation. Used by DescribeConfigs and by CreateTopics (v5+, which returns the new topic's configs).
///
/// Broker configs are static in portaskd (read at start-up), so every broker entry is read-only and its source
/// is STATIC_BROKER_CONFIG when given (server.properties, environment or `--override`), DEFAULT_CONFIG otherwise.
/// Stateless; thread-safe.
public enum ConfigDescriber {
    public typealias Source = TopicConfigDefinition.ConfigSource

    /// One synonym of a config entry: a property that supplies (or would supply) its value.
    public struct Synonym: Sendable, Equatable {
        public var name: String
        public var value: String?
        public var source: Source
    }

    /// One described config.
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var value: String?
        public var source: Source
        public var readOnly: Bool
        public var isSensitive: Bool
        public var type: BrokerConfigDefinition.ValueType
        public var documentation: String?
        /// The entry's synonyms, the entry itself first when it is set (empty when it has its default).
        public var synonyms: [Synonym]
    }

    /// Kafka's groups of broker properties that supply the same setting, highest precedence first (from the
    /// topic configs' broker synonyms, e.g. log.retention.ms, log.retention.minutes, log.retention.hours).
    static let brokerSynonymGroups: [[String]] = TopicConfigDefinition.all
        .map { $0.brokerSynonyms.map(\.name) }.filter { $0.count > 1 }

    /// DescribeConfigs' ConfigType codes.
    public static func typeCode(_ type: BrokerConfigDefinition.ValueType) -> Int8 {
        switch type {
        case .boolean: return 1
        case .string: return 2
        case .int: return 3
        case .long: return 5
        case .double: return 6
        case .list: return 7
        case .password: return 9
        }
    }

    /// Every broker property portaskd knows, with its value for `config`.
    public static func brokerEntries(_ config: BrokerConfig) -> [Entry] {
        BrokerConfigDefinition.all.map { definition in
            // Kafka never shows a sensitive value (passwords, private keys), not even in synonyms.
            let sensitive = definition.type == .password
            let synonyms = brokerSynonyms(of: definition.name, config: config)
                .map { sensitive ? Synonym(name: $0.name, value: nil, source: $0.source) : $0 }
            return Entry(
                name: definition.name, value: sensitive ? nil : config.properties[definition.name] ?? definition.defaultValue,
                source: synonyms.first?.source ?? .defaultValue, readOnly: true, isSensitive: sensitive,
                type: definition.type, documentation: definition.documentation, synonyms: synonyms)
        }
    }

    /// Every topic config of a topic with `overrides`: the override, else the broker's value, else the default;
    /// its source is that of its first synonym, as Kafka reports it.
    public static func topicEntries(overrides: [String: String], config: BrokerConfig) -> [Entry] {
        config.topicConfigResolver.values(overrides: overrides).compactMap { effective in
            guard let definition = TopicConfigDefinition.byName[effective.name] else { return nil }
            var synonyms: [Synonym] = []
            if effective.source == .topic {
                synonyms.append(Synonym(name: effective.name, value: effective.value, source: .topic))
            }
            if let brokerName = definition.brokerSynonym {
                synonyms += brokerSynonyms(of: brokerName, config: config, fromName: false)
            }
            return Entry(
                name: effective.name, value: effective.value, source: synonyms.first?.source ?? effective.source,
                readOnly: false, isSensitive: false, type: definition.type, documentation: definition.documentation,
                synonyms: synonyms)
        }
    }

    /// Kafka's synonym order: every static setting of the group, then every default, starting at `name`
    /// (the group's more specific properties are dropped when describing a less specific one).
    /// A topic config's synonyms are its whole group (`fromName: false`).
    static func brokerSynonyms(of name: String, config: BrokerConfig, fromName: Bool = true) -> [Synonym] {
        let group = brokerSynonymGroups.first { $0.contains(name) } ?? [name]
        let given = group.compactMap { member in
            config.properties[member].map { Synonym(name: member, value: $0, source: .staticBroker) }
        }
        let defaults = group.compactMap { member in
            BrokerConfigDefinition.byName[member]?.defaultValue.map { Synonym(name: member, value: $0, source: .defaultValue) }
        }
        return fromName ? Array((given + defaults).drop { $0.name != name }) : given + defaults
    }
}
