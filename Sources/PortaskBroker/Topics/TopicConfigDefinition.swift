/// One topic-level configuration property as Kafka 4.x defines it (`LogConfig`): name, type, default,
/// validator, the broker properties that supply its default (`ServerTopicConfigSynonyms`), whether portaskd acts
/// on it yet, and its documentation. The table (`all`, in `TopicConfigDefinition+Table.swift`) drives
/// validation (CreateTopics, AlterConfigs), `TopicConfigResolver`, DescribeConfigs and `portaskd --help`.
/// Immutable; thread-safe.
public struct TopicConfigDefinition: Sendable {
    /// A broker property that supplies a topic config's default, with the factor that converts its unit to the
    /// topic config's (e.g. 3,600,000 for `log.retention.hours` → `retention.ms`).
    public struct BrokerSynonym: Sendable, Equatable {
        public var name: String
        public var factor: Int64

        public init(_ name: String, factor: Int64 = 1) {
            self.name = name
            self.factor = factor
        }
    }

    /// Kafka's `ConfigDef` validators used by topic configs.
    public enum Validator: Sendable, Equatable {
        /// Any value of the type.
        case none
        /// `Range.atLeast(n)`.
        case atLeast(Int64)
        /// `Range.between(min, max)` on integers.
        case between(Int64, Int64)
        /// `Range.between(0, 1)` on a double.
        case ratio
        /// `ValidString.in(…)`.
        case oneOf([String])
        /// `ValidList.in(…)`: every item of the list is one of these.
        case eachOneOf([String])
        /// gzip's level validator: 1…9, or -1 for the codec's default.
        case gzipLevel
        /// `ThrottledReplicaListValidator`: `*`, or `partition:broker` items.
        case throttledReplicas
    }

    /// Where a config value comes from, with DescribeConfigs' source codes.
    public enum ConfigSource: Int8, Sendable {
        case topic = 1
        case staticBroker = 4
        case defaultValue = 5
        /// A group's own config (resource type 32).
        case dynamicGroup = 8
    }

    public var name: String
    public var type: BrokerConfigDefinition.ValueType
    /// Kafka's default, as Kafka prints it, used when no broker synonym supplies one.
    public var defaultValue: String
    public var validator: Validator
    /// The broker properties that supply the default, highest precedence first; empty when none does.
    public var brokerSynonyms: [BrokerSynonym]
    /// Whether portaskd acts on the value; when false it is accepted, validated, stored and described only.
    public var hasEffect: Bool
    /// What the config does in portaskd (DescribeConfigs' documentation).
    public var documentation: String

    init(
        _ name: String, _ type: BrokerConfigDefinition.ValueType, _ defaultValue: String, _ validator: Validator = .none,
        synonyms: [BrokerSynonym] = [], effect: Bool, _ documentation: String
    ) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.validator = validator
        brokerSynonyms = synonyms
        hasEffect = effect
        self.documentation = effect ? documentation : documentation + " Accepted, no effect yet."
    }

    /// The broker property with the highest precedence that supplies this config's default.
    public var brokerSynonym: String? { brokerSynonyms.first?.name }

    /// Every topic config, by name.
    public static let byName: [String: TopicConfigDefinition] = Dictionary(
        all.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })

    /// The topic config whose first broker synonym is `brokerName`, if any (for `portaskd --help`).
    public static let byBrokerSynonym: [String: TopicConfigDefinition] = Dictionary(
        all.flatMap { definition in definition.brokerSynonyms.map { ($0.name, definition) } },
        uniquingKeysWith: { first, _ in first })

    /// Checks one topic config value; returns Kafka's message when the name is unknown or the value invalid.
    public static func validate(name: String, value: String?) -> String? {
        guard let definition = byName[name] else { return "Unknown topic config name: \(name)" }
        guard let value else { return nil }
        return definition.problem(with: value)
    }
}
