import EtcdClient
import Foundation
import LogEngine
import KafkaProtocol
import Logging
import NIOConcurrencyHelpers

/// One broker's part in a cluster (cluster mode, `metadata.etcd.endpoints` set): it registers the broker and
/// competes for the controller (`ClusterMembership`), follows the metadata (`MetadataImageFollower`), applies
/// every image to the local logs (a log for each partition assigned here, leader epochs, deletions), then
/// publishes it to `routing`; as controller it moves leadership when brokers leave and return
/// (`PartitionLeadershipReconciler`). Topic changes made on this broker go to the metadata through
/// `ClusterTopicChangeRouter` and come back through the same path.
///
/// Thread-safe. `run(registration:)` is called once, after the listeners are bound (their ports are registered).
public final class ClusterNode: Sendable {
    public let config: ClusterMetadataConfig
    public let routing: ClusterRouting
    let store: any MetadataStore
    let registry: ClusterRegistry
    let follower: MetadataImageFollower
    let clusterTopics: ClusterTopics
    let topics: TopicManager
    private let membership = NIOLockedValueBox<ClusterMembership?>(nil)
    private let logger: Logger

    /// A node over etcd (`config.endpoints`, keys under `config.prefix`).
    public convenience init(config: ClusterMetadataConfig, topics: TopicManager, logger: Logger) {
        let client = EtcdClient(configuration: EtcdClientConfiguration(endpoints: config.endpoints))
        self.init(config: config, store: EtcdMetadataStore(client: client, root: config.prefix), topics: topics, logger: logger)
    }

    init(config: ClusterMetadataConfig, store: any MetadataStore, topics: TopicManager, logger: Logger) {
        self.config = config
        self.store = store
        self.topics = topics
        self.logger = logger
        registry = ClusterRegistry(store: store)
        follower = MetadataImageFollower(store: store, logger: logger)
        clusterTopics = ClusterTopics(store: store)
        let membership = self.membership
        routing = ClusterRouting(nodeId: topics.config.nodeId) {
            membership.withLockedValue { $0?.status.isRegistered ?? false }
        }
        topics.changeRouter.withLockedValue { $0 = ClusterTopicChangeRouter(node: self) }
    }

    /// Registers, follows and applies until cancelled; throws when the cluster refuses this broker (another
    /// cluster id, a duplicate `node.id`).
    public func run(registration: BrokerRegistration) async throws {
        let membership = ClusterMembership(
            registry: registry, registration: registration, clusterId: topics.logs.meta.clusterID, config: config,
            logger: logger)
        self.membership.withLockedValue { $0 = membership }
        let (images, continuation) = AsyncStream.makeStream(of: MetadataImage.self, bufferingPolicy: .bufferingNewest(1))
        follower.onChange { continuation.yield($0) }
        let follower = self.follower
        let interval = config.heartbeatIntervalMs
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await membership.run() }
            group.addTask { await follower.run() }
            group.addTask {
                // Membership changes the controller seat without an image change of its own: look again regularly.
                while !Task.isCancelled {
                    try await Task.sleep(for: .milliseconds(interval))
                    if follower.image.revision > 0 { continuation.yield(follower.image) }
                }
            }
            group.addTask {
                for await image in images { await self.apply(image, membership: membership) }
            }
            defer { continuation.finish() }
            try await group.next()
            group.cancelAll()
        }
    }

    /// Applies `image` to the local logs, publishes it to the handlers, then acts as controller if this is it.
    private func apply(_ image: MetadataImage, membership: ClusterMembership) async {
        let localClusterId = topics.logs.meta.clusterID
        let topics = self.topics
        let nodeId = routing.nodeId
        let logger = self.logger
        do {
            try await BlockingWork.run {
                for (name, topic) in image.topics {
                    guard let id = topic.topicIdBytes.map(KafkaUUID.init(bytes:)) else { continue }
                    let hosted = Set(topic.partitions.indices.filter { topic.partitions[$0].replicas.contains(nodeId) }.map { Int32($0) })
                    do {
                        try topics.applyClusterTopic(
                            name: name, id: id, partitionCount: topic.partitions.count, configs: topic.configs, hosted: hosted)
                        for index in hosted where topic.partitions[Int(index)].leader == nodeId {
                            let epoch = topic.partitions[Int(index)].leaderEpoch
                            if let log = topics.partition(name, index), log.leaderEpoch < epoch { try log.becomeLeader(epoch: epoch) }
                        }
                    } catch {
                        logger.error("cannot apply topic metadata", metadata: ["topic": "\(name)", "error": "\(error)"])
                    }
                }
                // Topics the metadata no longer has are deleted here too, only when it is this cluster's metadata.
                guard image.clusterId == localClusterId else { return }
                for local in topics.allTopics() where image.topics[local.name] == nil {
                    do {
                        try topics.deleteLocally(name: local.name)
                    } catch {
                        logger.error("cannot delete topic", metadata: ["topic": "\(local.name)", "error": "\(error)"])
                    }
                }
            }
        } catch is CancellationError {
            return
        } catch {
            logger.error("cannot apply cluster metadata", metadata: ["error": "\(error)"])
        }
        routing.publish(image)
        guard let controller = image.controller, controller.nodeId == nodeId,
            controller.brokerEpoch == membership.status.brokerEpoch
        else { return }
        do {
            try await PartitionLeadershipReconciler(topics: clusterTopics).reconcile(image, leadership: controller)
        } catch {
            logger.warning("partition leadership change failed; retrying", metadata: ["error": "\(error)"])
        }
    }

    /// The controller to fence a change with: the image's, else the store's; nil when there is none.
    func controller() async throws -> ControllerLeadership? {
        if let known = follower.image.controller { return known }
        return try await registry.currentController()
    }

    /// Waits until the applied image satisfies `condition` (at most `timeout`); returns whether it did.
    func waitUntilApplied(timeout: Duration = .seconds(10), _ condition: (MetadataImage) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while !condition(routing.image) {
            if ContinuousClock.now >= deadline || Task.isCancelled { return false }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return true
    }
}

extension KafkaUUID {
    /// The UUID of Kafka's 16 bytes (big-endian halves).
    init(bytes: [UInt8]) {
        var high: UInt64 = 0
        var low: UInt64 = 0
        for byte in bytes.prefix(8) { high = high << 8 | UInt64(byte) }
        for byte in bytes.dropFirst(8).prefix(8) { low = low << 8 | UInt64(byte) }
        self.init(high: high, low: low)
    }
}

extension ClusterNode {
    /// The cluster id a new data directory must take: the one in the metadata store, recorded there first when
    /// this is the cluster's first broker. nil when `dataDirectory` already has a `meta.properties` (its id is
    /// checked against the store's when the broker registers).
    public static func clusterIdForNewDataDirectory(
        config: ClusterMetadataConfig, dataDirectory: String
    ) async throws -> String? {
        if FileManager.default.fileExists(atPath: dataDirectory + "/meta.properties") { return nil }
        let client = EtcdClient(configuration: EtcdClientConfiguration(endpoints: config.endpoints))
        let registry = ClusterRegistry(store: EtcdMetadataStore(client: client, root: config.prefix))
        if let stored = try await registry.store.get(ClusterRegistry.clusterIdKey) {
            return String(decoding: stored.value, as: UTF8.self)
        }
        let fresh = MetaProperties.randomID()
        do {
            try await registry.ensureClusterId(fresh)
            return fresh
        } catch let error as BrokerError where error.code == .configuration {
            // Another broker recorded its id first: take that one.
            return try await registry.store.get(ClusterRegistry.clusterIdKey).map { String(decoding: $0.value, as: UTF8.self) }
        }
    }
}
