import KafkaProtocol
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The Portask broker: topics, request handlers and the Kafka listener, run as a `Service`.
///
/// `services` lists what one `ServiceGroup` runs: the broker (the Kafka listener), the metrics endpoint when
/// `metrics.listener` is set, log maintenance and the log cleaner. The group shuts them down in reverse order, so the cleaner and maintenance
/// stops first and the broker, which owns the event loops and the logs, last. `run()` serves until graceful
/// shutdown (SIGTERM/SIGINT), then stops accepting, closes connections, flushes and checkpoints. Thread-safe.
public final class Broker: Service, Sendable {
    public let config: BrokerConfig
    public let topics: TopicManager
    private let logger: Logger
    private let group: MultiThreadedEventLoopGroup
    private let server: KafkaServer
    private let identity: ClusterIdentity
    private let waiters: FetchWaiters
    private let fetchSessions = FetchSessionCache()
    /// The broker's metrics (exported on `metrics.listener` when set).
    public let metrics: BrokerMetrics
    private let maintenance: LogMaintenance
    private let cleaner: LogCleanerService
    private let producerIds: ProducerIdManager
    /// Consumer groups and their committed offsets (`__consumer_offsets`).
    public let groups: GroupCoordinator
    private let quotaEnforcer: ClientQuotaEnforcer
    private let quotaStore: ClientQuotaStore
    private let ready: AsyncStream<SocketAddress>.Continuation
    /// Yields the bound address once the listener is up (useful with port 0).
    public let boundAddresses: AsyncStream<SocketAddress>

    /// Opens the data directory (recovering every partition) and prepares the listener.
    public init(config: BrokerConfig, logger: Logger) throws {
        self.config = config
        self.logger = logger
        topics = try TopicManager(config: config, logger: logger)
        producerIds = try ProducerIdManager(dataDirectory: config.dataDirectory)
        group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        waiters = FetchWaiters(timers: group)
        metrics = BrokerMetrics()
        let enforcer = ClientQuotaEnforcer(
            samples: config.quotaWindowNum, windowSeconds: config.quotaWindowSizeSeconds, metrics: metrics)
        quotaEnforcer = enforcer
        quotaStore = try ClientQuotaStore(dataDirectory: config.dataDirectory) { enforcer.update($0) }
        groups = GroupCoordinator(topics: topics, loops: group, logger: logger)
        let listener = config.listeners[0]
        server = KafkaServer(
            configuration: .init(
                host: listener.host, port: listener.port, maximumRequestSize: config.socketRequestMaxBytes,
                maximumInFlightPerConnection: config.queuedMaxRequests,
                maximumInFlightBytesPerConnection: config.queuedMaxRequestBytes,
                maximumConnections: config.maxConnections, maximumConnectionsPerIp: config.maxConnectionsPerIp),
            group: group, logger: logger, metrics: metrics)
        let advertised = config.advertisedListeners[0]
        identity = ClusterIdentity(
            nodeId: config.nodeId, clusterId: "portask-cluster", advertisedHost: advertised.host,
            advertisedPort: Int32(advertised.port))
        (boundAddresses, ready) = AsyncStream.makeStream(of: SocketAddress.self)
        maintenance = LogMaintenance(
            logs: topics.logs, retentionCheckIntervalMs: config.logRetentionCheckIntervalMs, logger: logger)
        cleaner = LogCleanerService(logs: topics.logs, config: config, logger: logger)
    }

    /// What the process's `ServiceGroup` runs, in start order (shut down in reverse).
    public var services: [any Service] {
        var services: [any Service] = [self]
        if let listener = config.metricsListener {
            let topics = self.topics
            let metrics = self.metrics
            services.append(MetricsService(listener: listener, group: group, logger: logger) {
                metrics.exposition(topics: topics)
            })
        }
        services.append(maintenance)
        services.append(cleaner)
        return services
    }

    /// The router with every served API; ApiVersions advertises exactly these.
    func makeRouter() -> RequestRouter {
        let served: [ApiHandler] = [
            MetadataHandler(cluster: identity, topics: topics).makeHandler(),
            ProduceHandler(topics: topics, quotas: quotaEnforcer).makeHandler(),
            FetchHandler(
                topics: topics, waiters: waiters, sessions: fetchSessions, maximumResponseBytes: config.fetchMaxBytes,
                quotas: quotaEnforcer
            ).makeHandler(),
            ListOffsetsHandler(topics: topics).makeHandler(),
            CreateTopicsHandler(topics: topics).makeHandler(),
            DeleteTopicsHandler(topics: topics).makeHandler(),
            CreatePartitionsHandler(topics: topics).makeHandler(),
            DeleteRecordsHandler(topics: topics).makeHandler(),
            DescribeConfigsHandler(topics: topics).makeHandler(),
            AlterConfigsHandler(alterer: ConfigAlterer(topics: topics)).makeHandler(),
            IncrementalAlterConfigsHandler(alterer: ConfigAlterer(topics: topics)).makeHandler(),
            DescribeClusterHandler(cluster: identity).makeHandler(),
            DescribeTopicPartitionsHandler(
                cluster: identity, topics: topics, maximumPartitions: config.maxRequestPartitionSizeLimit
            ).makeHandler(),
            DescribeLogDirsHandler(topics: topics).makeHandler(),
            OffsetForLeaderEpochHandler(topics: topics).makeHandler(),
            InitProducerIdHandler(producerIds: producerIds).makeHandler(),
            DescribeProducersHandler(topics: topics).makeHandler(),
            FindCoordinatorHandler(cluster: identity, coordinator: groups).makeHandler(),
        ] + GroupMembershipHandlers(coordinator: groups).makeHandlers()
            + GroupOffsetHandlers(coordinator: groups, topics: topics).makeHandlers()
            + GroupAdminHandlers(coordinator: groups).makeHandlers()
            + ConsumerGroupHandlers(coordinator: groups, topics: topics).makeHandlers()
            + PlaintextSaslHandlers().makeHandlers()
            + ClientQuotaHandlers(store: quotaStore).makeHandlers()
        let supported = RequestRouter(served + [ApiVersionsHandler.make(supported: { [] })]).supportedVersions
        return RequestRouter(served + [ApiVersionsHandler.make(supported: { supported })])
    }

    public func run() async throws {
        for unknown in config.unknownProperties {
            logger.warning("The configuration '\(unknown)' was supplied but isn't a known config.")
        }
        await groups.start()
        let address = try await server.start(router: makeRouter())
        if config.advertisedListeners[0].port == 0, let port = address.port {
            identity.advertisedPort = Int32(port)
        }
        ready.yield(address)
        ready.finish()
        logger.info("portaskd started", metadata: ["address": "\(address)", "log.dirs": "\(config.dataDirectory)"])
        await withGracefulShutdownHandler {
            await server.waitUntilClosed()
        } onGracefulShutdown: {
            Task { await self.server.stop() }
        }
        await groups.stop()
        try await group.shutdownGracefully()
        do {
            try topics.close()
        } catch {
            logger.error("closing the logs failed", metadata: ["error": "\(error)"])
        }
        logger.info("portaskd stopped")
    }
}
