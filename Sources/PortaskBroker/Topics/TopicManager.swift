import Foundation
import KafkaProtocol
import LogEngine
import Logging
import NIOConcurrencyHelpers

/// The broker's topics and their partition logs: lookup, creation, deletion, partition growth and config
/// changes, persisted in the data directory (`TopicMetadataStore`, `LogManager`).
///
/// Thread-safe: the topic map sits behind one lock that is never held across produce or fetch I/O; metadata
/// changes are serialised by a second lock.
public final class TopicManager: Sendable {
    public enum CreateError: Error, Equatable {
        case alreadyExists
        case invalidName(String)
        case invalidPartitions(String)
        case invalidConfig(String)
        case autoCreateDisabled
        case storage(String)
        /// Cluster mode: the metadata store did not take the change (no quorum, unreachable, no controller).
        case metadataUnavailable(String)
    }

    public let config: BrokerConfig
    public let logs: LogManager
    let store: TopicMetadataStore
    /// Topics by name, their resolved configurations, and names by topic id (Fetch v13+ and Metadata name
    /// topics by id).
    struct Registry {
        var byName: [String: Topic] = [:]
        var configByName: [String: TopicConfig] = [:]
        var nameById: [KafkaUUID: String] = [:]

        mutating func put(_ topic: Topic, resolver: TopicConfigResolver) {
            if byName[topic.name]?.configs != topic.configs || configByName[topic.name] == nil {
                configByName[topic.name] = resolver.resolve(topic.configs)
            }
            byName[topic.name] = topic
            nameById[topic.id] = topic.name
        }

        mutating func remove(_ name: String) {
            configByName.removeValue(forKey: name)
            if let topic = byName.removeValue(forKey: name) { nameById.removeValue(forKey: topic.id) }
        }
    }

    let state = NIOLockedValueBox(Registry())
    let changes = NIOLock()
    /// In cluster mode, where topic changes go (the cluster metadata, applied back through
    /// `TopicManager+Cluster`); nil on a single node, where they are made here directly.
    let changeRouter = NIOLockedValueBox<(any TopicChangeRouter)?>(nil)
    /// The most partitions this broker holds in all (``PartitionBudget``): creations past it are refused with
    /// INVALID_PARTITIONS before any file is made, so descriptors are never exhausted by topic creation.
    public let maximumTotalPartitions: Int

    /// Opens the data directory: loads topic metadata, recovers every partition log, and adopts partition
    /// directories that have no metadata (e.g. copied from another broker) as topics with a new id.
    public init(config: BrokerConfig, logger: Logger) throws {
        self.config = config
        maximumTotalPartitions = PartitionBudget.maximumPartitions(configured: config.maxPartitions)
        store = TopicMetadataStore(dataDirectory: config.dataDirectory)
        try FileManager.default.createDirectory(atPath: config.dataDirectory, withIntermediateDirectories: true)
        let (stored, unreadable) = try store.loadAll()
        for file in unreadable { logger.error("unreadable topic metadata", metadata: ["file": "\(file)"]) }
        let byName = Dictionary(stored.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let brokerConfig = config
        logs = try LogManager(
            directory: config.dataDirectory, defaultConfig: config.logConfig(), nodeID: config.nodeId, clusterID: config.clusterId,
            configFor: { partition in byName[partition.topic].map { brokerConfig.logConfig(overrides: $0.configs) } })
        for (partition, log) in logs.allLogs {
            for warning in log.recoveryStats.warnings {
                logger.warning("partition recovered with damage set aside", metadata: ["partition": "\(partition)", "detail": "\(warning)"])
            }
        }
        var topics = byName
        for (partition, _) in logs.allLogs where topics[partition.topic] == nil || topics[partition.topic]!.partitionCount <= Int(partition.partition) {
            var topic = topics[partition.topic] ?? Topic(name: partition.topic, id: .random(), partitionCount: 0)
            topic.partitionCount = max(topic.partitionCount, Int(partition.partition) + 1)
            topics[partition.topic] = topic
            try store.save(topic)
            logger.info("adopted partition directory", metadata: ["partition": "\(partition)"])
        }
        // In cluster mode a broker holds only the partitions assigned to it: the cluster metadata says which.
        for topic in topics.values where !config.isClustered {
            for index in 0..<Int32(topic.partitionCount) where logs.log(for: TopicPartition(topic.name, index)) == nil {
                try logs.createLog(for: TopicPartition(topic.name, index), config: config.logConfig(overrides: topic.configs))
            }
        }
        state.withLockedValue { registry in topics.values.forEach { registry.put($0, resolver: config.topicConfigResolver) } }
    }

    public func topic(named name: String) -> Topic? {
        state.withLockedValue { $0.byName[name] }
    }

    /// The resolved configuration of a topic (overrides, broker properties, defaults), or `nil` when the
    /// topic does not exist. Resolved when the topic is loaded, created or its configs change.
    public func topicConfig(named name: String) -> TopicConfig? {
        state.withLockedValue { $0.configByName[name] }
    }

    public func topic(id: KafkaUUID) -> Topic? {
        state.withLockedValue { registry in registry.nameById[id].flatMap { registry.byName[$0] } }
    }

    /// Every topic, sorted by name.
    public func allTopics() -> [Topic] {
        state.withLockedValue { Array($0.byName.values) }.sorted { $0.name < $1.name }
    }

    /// The log of one partition, or `nil` when the topic or partition does not exist.
    public func partition(_ topic: String, _ index: Int32) -> PartitionLog? {
        logs.log(for: TopicPartition(topic, index))
    }

    /// Checks a creation request without changing anything (CreateTopics' validateOnly).
    public func validateCreation(name: String, partitions: Int?, configs: [String: String]) throws(CreateError) -> Int {
        if let reason = Topic.validate(name: name) { throw .invalidName(reason) }
        let count = partitions ?? config.numPartitions
        guard count >= 1 && count <= 100_000 else {
            throw .invalidPartitions("Number of partitions must be larger than 0 (and at most 100000), not \(count).")
        }
        if let problem = config.topicConfigResolver.problem(with: configs) { throw .invalidConfig(problem) }
        if topic(named: name) != nil { throw .alreadyExists }
        if let problem = partitionBudgetProblem(adding: count) { throw .invalidPartitions(problem) }
        return count
    }

    /// Partitions held now, across every topic.
    public var totalPartitions: Int {
        state.withLockedValue { $0.byName.values.reduce(0) { $0 + $1.partitionCount } }
    }

    /// Why adding `count` partitions would pass the broker's partition budget, or `nil` when it would not.
    public func partitionBudgetProblem(adding count: Int) -> String? {
        let total = totalPartitions
        guard count > maximumTotalPartitions - total else { return nil }
        return "Adding \(count) partition(s) to the \(total) this broker holds would exceed its limit of "
            + "\(maximumTotalPartitions) (max.partitions, bounded by the open-file limit)."
    }

    /// Creates a topic and its partition logs; `partitions` defaults to `num.partitions`.
    @discardableResult
    public func create(name: String, partitions: Int? = nil, configs: [String: String] = [:]) throws(CreateError) -> Topic {
        let count = try validateCreation(name: name, partitions: partitions, configs: configs)
        if let router = changeRouter.withLockedValue({ $0 }) {
            try router.create(name: name, partitions: count, configs: configs)
            guard let created = topic(named: name) else { throw .storage("topic \(name) was created but not applied here") }
            return created
        }
        let topic = Topic(name: name, id: KafkaUUID.random(), partitionCount: count, configs: configs)
        do {
            try changes.withLock {
                guard self.topic(named: name) == nil else { throw CreateError.alreadyExists }
                if let problem = partitionBudgetProblem(adding: count) { throw CreateError.invalidPartitions(problem) }
                try store.save(topic)
                for index in 0..<Int32(count) {
                    try logs.createLog(for: TopicPartition(name, index), config: config.logConfig(overrides: configs))
                }
                state.withLockedValue { $0.put(topic, resolver: config.topicConfigResolver) }
            }
        } catch let error as CreateError {
            throw error
        } catch {
            throw .storage("\(error)")
        }
        return topic
    }

    /// Creates a topic with the defaults when `auto.create.topics.enable` is on; returns an existing one as is.
    public func autoCreate(name: String) throws(CreateError) -> Topic {
        if let existing = topic(named: name) { return existing }
        guard config.autoCreateTopics else { throw .autoCreateDisabled }
        do {
            return try create(name: name)
        } catch .alreadyExists {
            if let existing = topic(named: name) { return existing }
            throw .alreadyExists
        }
    }

    /// Deletes a topic: its metadata first, then its partition directories.
    public func delete(name: String) throws {
        if let router = changeRouter.withLockedValue({ $0 }) {
            guard topic(named: name) != nil else { throw BrokerError(.invalidRequest, "unknown topic", context: name) }
            return try router.delete(name: name)
        }
        try deleteLocally(name: name)
    }

    /// Deletes a topic's metadata and partition directories here (cluster mode: as the cluster metadata says).
    func deleteLocally(name: String) throws {
        try changes.withLock {
            guard let topic = topic(named: name) else {
                throw BrokerError(.invalidRequest, "unknown topic", context: name)
            }
            state.withLockedValue { $0.remove(name) }
            try store.remove(topic)
            for index in 0..<Int32(topic.partitionCount) {
                try? logs.deleteLog(for: TopicPartition(name, index))
            }
        }
    }

    /// Grows a topic to `count` partitions.
    public func addPartitions(name: String, count: Int) throws {
        if let router = changeRouter.withLockedValue({ $0 }) {
            guard let topic = topic(named: name) else { throw BrokerError(.invalidRequest, "unknown topic", context: name) }
            guard count > topic.partitionCount else {
                throw BrokerError(.invalidRequest, "Topic currently has \(topic.partitionCount) partitions, which is higher than the requested \(count).")
            }
            return try router.addPartitions(name: name, count: count)
        }
        try changes.withLock {
            guard var topic = topic(named: name) else { throw BrokerError(.invalidRequest, "unknown topic", context: name) }
            guard count > topic.partitionCount else {
                throw BrokerError(.invalidRequest, "Topic currently has \(topic.partitionCount) partitions, which is higher than the requested \(count).")
            }
            let previous = topic.partitionCount
            if let problem = partitionBudgetProblem(adding: count - previous) {
                throw BrokerError(.invalidRequest, problem)
            }
            topic.partitionCount = count
            for index in Int32(previous)..<Int32(count) {
                try logs.createLog(for: TopicPartition(name, index), config: config.logConfig(overrides: topic.configs))
            }
            try store.save(topic)
            state.withLockedValue { $0.put(topic, resolver: config.topicConfigResolver) }
        }
    }

    /// Replaces a topic's config overrides (validated by the caller), persists them and applies them to the
    /// topic's open partition logs at once (`PartitionLog.updateConfig`). With `expected`, changes nothing and
    /// returns false when the current overrides differ (another change came first: compute again and retry).
    @discardableResult
    public func setConfigs(name: String, configs: [String: String], expected: [String: String]? = nil) throws -> Bool {
        if let router = changeRouter.withLockedValue({ $0 }) {
            guard let topic = topic(named: name) else { throw BrokerError(.invalidRequest, "unknown topic", context: name) }
            if let expected, expected != topic.configs { return false }
            if let problem = PartitionLog.problem(with: config.logConfig(overrides: configs)) {
                throw BrokerError(.invalidRequest, problem, context: name)
            }
            try router.setConfigs(name: name, configs: configs)
            return true
        }
        return try setConfigsLocally(name: name, configs: configs, expected: expected)
    }

    /// Replaces a topic's config overrides here (cluster mode: as the cluster metadata says).
    @discardableResult
    func setConfigsLocally(name: String, configs: [String: String], expected: [String: String]? = nil) throws -> Bool {
        try changes.withLock {
            guard var topic = topic(named: name) else { throw BrokerError(.invalidRequest, "unknown topic", context: name) }
            if let expected, expected != topic.configs { return false }
            let logConfig = config.logConfig(overrides: configs)
            if let problem = PartitionLog.problem(with: logConfig) { throw BrokerError(.invalidRequest, problem, context: name) }
            topic.configs = configs
            try store.save(topic)
            state.withLockedValue { $0.put(topic, resolver: config.topicConfigResolver) }
            for index in 0..<Int32(topic.partitionCount) {
                try partition(name, index)?.updateConfig(logConfig)
            }
            return true
        }
    }

    /// Flushes and checkpoints every log so the next start-up scans nothing.
    public func close() throws {
        try logs.close()
    }
}

