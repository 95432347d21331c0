import Foundation
import KafkaProtocol

/// The controller's topic changes in the cluster metadata: create, delete, add partitions, change configs. Each is
/// one transaction that carries the controller's fence (a deposed controller's write changes nothing and answers
/// NOT_CONTROLLER) and the condition it rests on (the topic absent, or unchanged since it was read: a concurrent
/// change makes it read again, at most `maxAttempts` times). Thread-safe (stateless over the store).
struct ClusterTopics: Sendable {
    static let topicsPrefix = "topics/"
    static let maxAttempts = 8

    let store: any MetadataStore

    init(store: any MetadataStore) {
        self.store = store
    }

    static func topicKey(_ name: String) -> String { topicsPrefix + name }

    /// Replica lists for `partitions` partitions: round-robin over `brokers` (ascending node ids) from
    /// `startIndex`, replica `j` of partition `p` on broker `(start + p + j) mod n`, so the replicas of a partition
    /// are distinct and leaders spread evenly. Empty when the factor exceeds the brokers.
    static func assignReplicas(partitions: Int, replicationFactor: Int, brokers: [Int32], startIndex: Int) -> [[Int32]] {
        let sorted = brokers.sorted()
        let count = sorted.count
        guard replicationFactor >= 1, replicationFactor <= count, partitions >= 0 else { return [] }
        let start = ((startIndex % count) + count) % count
        return (0..<partitions).map { partition in
            (0..<replicationFactor).map { replica in sorted[(start + partition % count + replica) % count] }
        }
    }

    /// Creates `name` with `partitions` partitions of `replicationFactor` replicas over `liveBrokers`; the first
    /// replica of each partition leads it at leader epoch 0.
    func createTopic(
        name: String, partitions: Int32, replicationFactor: Int16, configs: [String: String], liveBrokers: [Int32],
        leadership: ControllerLeadership, startIndex: Int = Int.random(in: 0..<1_000)
    ) async throws -> AdminOutcome {
        guard partitions >= 1, Int(partitions) <= ClusterTopic.maxPartitions else {
            return AdminOutcome(.invalidPartitions, "Number of partitions must be between 1 and \(ClusterTopic.maxPartitions).")
        }
        guard replicationFactor >= 1 else {
            return AdminOutcome(.invalidReplicationFactor, "Replication factor must be larger than 0.")
        }
        guard Int(replicationFactor) <= liveBrokers.count else {
            return AdminOutcome(
                .invalidReplicationFactor,
                "Unable to replicate the partition \(replicationFactor) time(s): The target replication factor of "
                    + "\(replicationFactor) cannot be reached because only \(liveBrokers.count) broker(s) are registered.")
        }
        let assignment = Self.assignReplicas(
            partitions: Int(partitions), replicationFactor: Int(replicationFactor), brokers: liveBrokers,
            startIndex: startIndex)
        let topic = ClusterTopic(
            name: name, topicId: ClusterTopic.hexId(Self.newTopicId()), configs: configs,
            partitions: assignment.map { ClusterPartitionState(replicas: $0, leader: $0[0], leaderEpoch: 0, isr: $0, partitionEpoch: 0) })
        let key = Self.topicKey(name)
        let result = try await store.commit(
            if: ClusterRegistry.fence(for: leadership) + [.absent(key)],
            then: [.put(key: key, value: try ClusterRegistry.encode(topic))])
        if result.succeeded { return .success }
        if try await !stillLeads(leadership) { return Self.notController }
        return AdminOutcome(.topicAlreadyExists, "Topic '\(name)' already exists.")
    }

    /// Deletes `name`.
    func deleteTopic(name: String, leadership: ControllerLeadership) async throws -> AdminOutcome {
        let key = Self.topicKey(name)
        let result = try await store.commit(
            if: ClusterRegistry.fence(for: leadership) + [.present(key)], then: [.delete(key: key)])
        if result.succeeded { return .success }
        if try await !stillLeads(leadership) { return Self.notController }
        return AdminOutcome(.unknownTopicOrPartition, "This server does not host this topic-partition.")
    }

    /// Raises `name`'s partition count to `totalCount`, placing the new partitions round-robin over `liveBrokers`
    /// with the topic's replication factor.
    func createPartitions(
        name: String, totalCount: Int32, liveBrokers: [Int32], leadership: ControllerLeadership
    ) async throws -> AdminOutcome {
        try await update(name: name, leadership: leadership) { topic in
            let current = topic.partitions.count
            guard Int(totalCount) > current else {
                return .failure(AdminOutcome(
                    .invalidPartitions, "Topic currently has \(current) partitions, which is higher than the requested \(totalCount)."))
            }
            guard Int(totalCount) <= ClusterTopic.maxPartitions else {
                return .failure(AdminOutcome(.invalidPartitions, "A topic may have at most \(ClusterTopic.maxPartitions) partitions."))
            }
            let factor = topic.partitions.first?.replicas.count ?? 1
            guard factor <= liveBrokers.count else {
                return .failure(AdminOutcome(
                    .invalidReplicationFactor,
                    "Unable to replicate the partition \(factor) time(s): only \(liveBrokers.count) broker(s) are registered."))
            }
            let added = Self.assignReplicas(
                partitions: Int(totalCount) - current, replicationFactor: factor, brokers: liveBrokers, startIndex: current)
            var next = topic
            next.partitions += added.map {
                ClusterPartitionState(replicas: $0, leader: $0[0], leaderEpoch: 0, isr: $0, partitionEpoch: 0)
            }
            return .success(next)
        }
    }

    /// Replaces `name`'s configuration overrides.
    func setConfigs(name: String, configs: [String: String], leadership: ControllerLeadership) async throws
        -> AdminOutcome
    {
        try await update(name: name, leadership: leadership) { topic in
            var next = topic
            next.configs = configs
            return .success(next)
        }
    }

    /// Every topic in the store, by name, with the revision of each key (for conditional updates).
    func topics() async throws -> [String: (topic: ClusterTopic, modRevision: Int64)] {
        let snapshot = try await store.read(prefix: Self.topicsPrefix)
        var topics: [String: (topic: ClusterTopic, modRevision: Int64)] = [:]
        for entry in snapshot.entries {
            guard let topic = Self.decode(entry) else { continue }
            topics[topic.name] = (topic, entry.modRevision)
        }
        return topics
    }

    /// Writes `topic` if its key is still at `modRevision` and the controller still leads; returns whether it did.
    func replace(
        _ topic: ClusterTopic, ifAt modRevision: Int64, leadership: ControllerLeadership
    ) async throws -> Bool {
        let key = Self.topicKey(topic.name)
        let result = try await store.commit(
            if: ClusterRegistry.fence(for: leadership) + [MetadataCondition(key: key, .modRevision(modRevision))],
            then: [.put(key: key, value: try ClusterRegistry.encode(topic))])
        return result.succeeded
    }

    static func decode(_ entry: MetadataEntry) -> ClusterTopic? {
        // The store is read as untrusted: a topic past the partition bound is not applied (no logs are made for it).
        guard let topic = try? JSONDecoder().decode(ClusterTopic.self, from: Data(entry.value)),
            entry.key == topicKey(topic.name), topic.partitions.count <= ClusterTopic.maxPartitions
        else { return nil }
        return topic
    }

    private static let notController = AdminOutcome(.notController, "This is not the correct controller for this cluster.")

    private func update(
        name: String, leadership: ControllerLeadership, change: (ClusterTopic) -> Result<ClusterTopic, AdminOutcomeFailure>
    ) async throws -> AdminOutcome {
        for _ in 0..<Self.maxAttempts {
            guard let entry = try await store.get(Self.topicKey(name)), let topic = Self.decode(entry) else {
                return AdminOutcome(.unknownTopicOrPartition, "This server does not host this topic-partition.")
            }
            let next: ClusterTopic
            switch change(topic) {
            case .failure(let failure): return failure.outcome
            case .success(let changed): next = changed
            }
            if try await replace(next, ifAt: entry.modRevision, leadership: leadership) { return .success }
            if try await !stillLeads(leadership) { return Self.notController }
        }
        return AdminOutcome(.requestTimedOut, "The topic kept changing; try again.")
    }

    private func stillLeads(_ leadership: ControllerLeadership) async throws -> Bool {
        try await store.get(ClusterRegistry.controllerKey)?.createRevision == leadership.controllerEpoch
    }

    private static func newTopicId() -> [UInt8] {
        let uuid = UUID().uuid
        return [
            uuid.0, uuid.1, uuid.2, uuid.3, uuid.4, uuid.5, uuid.6, uuid.7, uuid.8, uuid.9, uuid.10, uuid.11, uuid.12,
            uuid.13, uuid.14, uuid.15,
        ]
    }
}

/// A failed change, carried through `Result`.
struct AdminOutcomeFailure: Error {
    var outcome: AdminOutcome
}

extension Result where Failure == AdminOutcomeFailure {
    static func failure(_ outcome: AdminOutcome) -> Self { .failure(AdminOutcomeFailure(outcome: outcome)) }
}
