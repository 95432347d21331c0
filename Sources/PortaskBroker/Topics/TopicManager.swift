import KafkaProtocol
import NIOConcurrencyHelpers

/// The broker's topics: lookup by name or id, creation, deletion.
///
/// Thread-safe: state sits behind one lock that is never held across I/O on the produce or fetch path.
public final class TopicManager: Sendable {
    public struct Defaults: Sendable {
        /// Kafka's `num.partitions`.
        public var partitions: Int
        /// Kafka's `auto.create.topics.enable`.
        public var autoCreateTopics: Bool

        public init(partitions: Int = 1, autoCreateTopics: Bool = true) {
            self.partitions = partitions
            self.autoCreateTopics = autoCreateTopics
        }
    }

    public enum CreateError: Error, Equatable {
        case alreadyExists
        case invalidName(String)
        case invalidPartitions(String)
        case autoCreateDisabled
    }

    private let defaults: Defaults
    private let state = NIOLockedValueBox<[String: Topic]>([:])

    public init(defaults: Defaults = Defaults()) {
        self.defaults = defaults
    }

    public func topic(named name: String) -> Topic? {
        state.withLockedValue { $0[name] }
    }

    public func topic(id: KafkaUUID) -> Topic? {
        state.withLockedValue { topics in topics.values.first { $0.id == id } }
    }

    /// Every topic, sorted by name.
    public func allTopics() -> [Topic] {
        state.withLockedValue { Array($0.values) }.sorted { $0.name < $1.name }
    }

    /// Creates a topic; `partitions` defaults to `num.partitions`.
    @discardableResult
    public func create(name: String, partitions: Int? = nil, configs: [String: String] = [:]) throws(CreateError) -> Topic {
        if let reason = Topic.validate(name: name) { throw .invalidName(reason) }
        let count = partitions ?? defaults.partitions
        guard count >= 1 && count <= 100_000 else {
            throw .invalidPartitions("number of partitions must be between 1 and 100000, not \(count)")
        }
        let topic = Topic(name: name, id: KafkaUUID.random(), partitionCount: count, configs: configs)
        let inserted = state.withLockedValue { topics in
            guard topics[name] == nil else { return false }
            topics[name] = topic
            return true
        }
        guard inserted else { throw .alreadyExists }
        return topic
    }

    /// Creates a topic with the defaults when `auto.create.topics.enable` is on; returns an existing one as is.
    public func autoCreate(name: String) throws(CreateError) -> Topic {
        if let existing = topic(named: name) { return existing }
        guard defaults.autoCreateTopics else { throw .autoCreateDisabled }
        do {
            return try create(name: name)
        } catch .alreadyExists {
            if let existing = topic(named: name) { return existing }
            throw .alreadyExists
        }
    }
}
