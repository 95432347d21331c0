import Foundation
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
    /// One server per listener, in the order of `listeners`.
    private let servers: [KafkaServer]
    /// The SCRAM credentials of SASL users (`<data dir>/scram-credentials`).
    public let scramCredentials: ScramCredentialStore
    /// The ACL authorizer when `authorizer.class.name` enables it.
    public let authorizer: StandardAuthorizer?
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
    /// Transactions (`__transaction_state`).
    let transactions: TransactionCoordinator
    private let transactionCleanupIntervalMs: Int64
    private let quotaEnforcer: ClientQuotaEnforcer
    private let quotaStore: ClientQuotaStore
    /// Client telemetry (KIP-714) and its client-metrics subscriptions.
    private let telemetry: ClientTelemetry
    private let clientMetrics: ClientMetricsStore
    /// This broker's part in a cluster (`metadata.etcd.endpoints`); nil on a single node.
    public let cluster: ClusterNode?
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
        let telemetry = ClientTelemetry()
        self.telemetry = telemetry
        clientMetrics = try ClientMetricsStore(dataDirectory: config.dataDirectory) { telemetry.update($0) }
        groups = try GroupCoordinator(topics: topics, loops: group, logger: logger)
        scramCredentials = try ScramCredentialStore(dataDirectory: config.dataDirectory)
        let bootstrapped = try scramCredentials.bootstrap(config.scramBootstrapCredentials)
        if !bootstrapped.isEmpty {
            logger.info("SCRAM credentials created from scram.bootstrap.credentials: \(bootstrapped.joined(separator: ", "))")
        }
        authorizer = config.authorizerEnabled
            ? try StandardAuthorizer(
                dataDirectory: config.dataDirectory, superUsers: config.superUsers,
                allowEveryoneIfNoAclFound: config.allowEveryoneIfNoAclFound)
            : nil
        var servers: [KafkaServer] = []
        for (listener, security) in zip(config.listeners, config.listenerSecurity) {
            let runtime = try ListenerRuntime(security: security, scramCredentials: scramCredentials)
            servers.append(KafkaServer(
                configuration: .init(
                    host: listener.host, port: listener.port, maximumRequestSize: config.socketRequestMaxBytes,
                    maximumInFlightPerConnection: config.queuedMaxRequests,
                    maximumInFlightBytesPerConnection: config.queuedMaxRequestBytes,
                    maximumConnections: config.maxConnections, maximumConnectionsPerIp: config.maxConnectionsPerIp),
                group: group, logger: logger, metrics: metrics, listener: runtime, shared: servers.first))
        }
        self.servers = servers
        let settings = config.properties
        func setting(_ name: String) -> Int64? {
            (settings[name] ?? BrokerConfigDefinition.byName[name]?.defaultValue).flatMap { Int64($0.trimmingWhitespace()) }
        }
        transactions = TransactionCoordinator(
            topics: topics, producerIds: producerIds, groups: groups,
            partitions: Int(Int32(clamping: max(1, setting("transaction.state.log.num.partitions") ?? 50))),
            maxTimeoutMs: Int32(clamping: max(1, setting("transaction.max.timeout.ms") ?? 900_000)),
            expirationMs: max(1, setting("transactional.id.expiration.ms") ?? 604_800_000),
            markerDelayMs: max(0, setting("test.transaction.marker.delay.ms") ?? 0), logger: logger,
            clock: { Int64(Date().timeIntervalSince1970 * 1000) })
        transactionCleanupIntervalMs = max(10, setting("transaction.abort.timed.out.transaction.cleanup.interval.ms") ?? 10_000)
        let advertised = config.advertisedListeners[0]
        identity = ClusterIdentity(
            nodeId: config.nodeId, clusterId: topics.logs.meta.clusterID, advertisedHost: advertised.host,
            advertisedPort: Int32(advertised.port), defaultListener: advertised.name)
        for endpoint in config.advertisedListeners.dropFirst() {
            identity.setEndpoint(endpoint.name, host: endpoint.host, port: Int32(endpoint.port))
        }
        (boundAddresses, ready) = AsyncStream.makeStream(of: SocketAddress.self)
        maintenance = LogMaintenance(
            logs: topics.logs, retentionCheckIntervalMs: config.logRetentionCheckIntervalMs, logger: logger)
        cleaner = LogCleanerService(logs: topics.logs, config: config, logger: logger)
        let topics = self.topics
        let clusterConfig = try ClusterMetadataConfig(config: config)
        cluster = clusterConfig.map { ClusterNode(config: $0, topics: topics, logger: logger) }
        groups.routing.withLockedValue { [cluster] in $0 = cluster?.routing }
        if let cluster {
            let blocks = ProducerIdBlocks(store: cluster.store)
            producerIds.clusterBlocks.withLockedValue {
                $0 = { try BlockingAwait.run(timeout: .seconds(15)) { try await blocks.allocate() } }
            }
        }
    }

    /// What the process's `ServiceGroup` runs, in start order (shut down in reverse).
    public var services: [any Service] {
        var services: [any Service] = [self]
        if let listener = config.metricsListener {
            let topics = self.topics
            let metrics = self.metrics
            let telemetry = self.telemetry
            let shares = groups.sharePartitions
            services.append(MetricsService(listener: listener, group: group, logger: logger) {
                metrics.exposition(topics: topics) + shares.exposition(topics: topics)
                    + telemetry.renderPrometheus(nowMs: ProduceHandler.nowMs())
            })
        }
        services.append(maintenance)
        services.append(cleaner)
        return services
    }

    /// The router with every served API; ApiVersions advertises exactly these.
    func makeRouter() -> RequestRouter {
        let access = AccessControl(authorizer: authorizer)
        let routing = cluster?.routing
        var served: [ApiHandler] = [
            MetadataHandler(cluster: identity, topics: topics, access: access, routing: routing).makeHandler(),
            ProduceHandler(
                topics: topics, transactions: transactions, quotas: quotaEnforcer, access: access, routing: routing
            ).makeHandler(),
            FetchHandler(
                topics: topics, waiters: waiters, sessions: fetchSessions, maximumResponseBytes: config.fetchMaxBytes,
                quotas: quotaEnforcer, access: access, routing: routing
            ).makeHandler(),
            ListOffsetsHandler(topics: topics, access: access, routing: routing).makeHandler(),
            CreateTopicsHandler(topics: topics, access: access).makeHandler(),
            DeleteTopicsHandler(topics: topics, access: access).makeHandler(),
            CreatePartitionsHandler(topics: topics, access: access).makeHandler(),
            DeleteRecordsHandler(topics: topics, access: access, routing: routing).makeHandler(),
            DescribeConfigsHandler(
                topics: topics, access: access, clientMetrics: clientMetrics, groupConfigs: groups.groupConfigs).makeHandler(),
            AlterConfigsHandler(alterer: ConfigAlterer(topics: topics, clientMetrics: clientMetrics, groupConfigs: groups.groupConfigs), access: access)
                .makeHandler(),
            IncrementalAlterConfigsHandler(
                alterer: ConfigAlterer(topics: topics, clientMetrics: clientMetrics, groupConfigs: groups.groupConfigs), access: access
            ).makeHandler(),
            DescribeClusterHandler(cluster: identity, access: access, routing: routing).makeHandler(),
            DescribeTopicPartitionsHandler(
                cluster: identity, topics: topics, access: access, routing: routing,
                maximumPartitions: config.maxRequestPartitionSizeLimit
            ).makeHandler(),
            DescribeLogDirsHandler(topics: topics, access: access).makeHandler(),
            OffsetForLeaderEpochHandler(topics: topics, access: access, routing: routing).makeHandler(),
            InitProducerIdHandler(producerIds: producerIds, transactions: transactions, access: access).makeHandler(),
            DescribeProducersHandler(topics: topics, access: access).makeHandler(),
            FindCoordinatorHandler(
                cluster: identity, coordinator: groups, transactions: transactions, access: access, routing: routing
            ).makeHandler(),
        ]
        served += TransactionHandlers(coordinator: transactions, groups: groups, topics: topics, access: access).makeHandlers()
        served += TransactionAdminHandlers(coordinator: transactions, access: access).makeHandlers()
        served += [WriteTxnMarkersHandler(topics: topics, groups: groups, access: access).makeHandler()]
        served += GroupMembershipHandlers(coordinator: groups, access: access).makeHandlers()
        served += GroupOffsetHandlers(coordinator: groups, topics: topics, access: access).makeHandlers()
        served += GroupAdminHandlers(coordinator: groups, access: access).makeHandlers()
        served += ConsumerGroupHandlers(coordinator: groups, topics: topics, access: access).makeHandlers()
        served += ShareGroupHandlers(coordinator: groups, topics: topics, access: access).makeHandlers()
        served += ShareGroupOffsetHandlers(coordinator: groups, topics: topics, access: access).makeHandlers()
        let shareFetch = ShareFetchHandler(
            coordinator: groups, topics: topics, waiters: waiters, nodeId: identity.nodeId, access: access,
            maximumResponseBytes: config.fetchMaxBytes)
        served += shareFetch.makeHandlers()
        served += PlaintextSaslHandlers().makeHandlers()
        served += ScramCredentialHandlers(store: scramCredentials, access: access).makeHandlers()
        served += AclHandlers(authorizer: authorizer).makeHandlers()
        served += ClientQuotaHandlers(store: quotaStore, access: access).makeHandlers()
        served += PartitionAdminHandlers(topics: topics, nodeId: identity.nodeId, access: access).makeHandlers()
        served += TelemetryHandlers(telemetry: telemetry, subscriptions: clientMetrics, topics: topics, access: access).makeHandlers()
        let supported = RequestRouter(served + [ApiVersionsHandler.make(supported: { [] })]).supportedVersions
        return RequestRouter(
            served + [ApiVersionsHandler.make(supported: { supported })], quotas: quotaEnforcer,
            connectionClosed: { shareFetch.connectionClosed($0) })
    }

    /// Registers this broker in its cluster with the bound listeners' endpoints and follows the cluster
    /// metadata; when the cluster refuses the broker (another cluster id, a duplicate node id) it stops serving.
    private func startCluster() -> Task<Void, any Error>? {
        guard let cluster else { return nil }
        let endpoints = zip(config.advertisedListeners, config.listenerSecurity).map { listener, security in
            let endpoint = identity.endpoint(for: listener.name)
            return BrokerRegistration.Endpoint(
                listener: listener.name, host: endpoint.host, port: endpoint.port,
                securityProtocol: security.securityProtocol.rawValue)
        }
        let registration = BrokerRegistration(
            nodeId: config.nodeId, endpoints: endpoints, rack: config.properties["broker.rack"])
        let servers = self.servers
        let logger = self.logger
        return Task {
            do {
                try await cluster.run(registration: registration)
            } catch is CancellationError {
            } catch {
                logger.critical("leaving the cluster", metadata: ["error": "\(error)"])
                for server in servers { await server.stop() }
                throw error
            }
        }
    }

    public func run() async throws {
        for unknown in config.unknownProperties {
            logger.warning("The configuration '\(unknown)' was supplied but isn't a known config.")
        }
        await groups.start()
        await transactions.start()
        let cleanup = group.next().scheduleRepeatedAsyncTask(
            initialDelay: .milliseconds(transactionCleanupIntervalMs), delay: .milliseconds(transactionCleanupIntervalMs)
        ) { [transactions, group] _ in
            group.next().makeFutureWithTask {
                await transactions.abortTimedOutTransactions()
                await transactions.expireTransactionalIds()
            }
        }
        let router = makeRouter()
        var addresses: [SocketAddress] = []
        for (server, advertised) in zip(servers, config.advertisedListeners) {
            let address = try await server.start(router: router)
            if advertised.port == 0, let port = address.port {
                identity.setEndpoint(advertised.name, host: advertised.host, port: Int32(port))
            }
            addresses.append(address)
        }
        let clusterTask = startCluster()
        for address in addresses { ready.yield(address) }
        ready.finish()
        logger.info(
            "portaskd started",
            metadata: ["address": "\(addresses.map { "\($0)" }.joined(separator: ","))", "log.dirs": "\(config.dataDirectory)"])
        let servers = self.servers
        await withGracefulShutdownHandler {
            for server in servers { await server.waitUntilClosed() }
        } onGracefulShutdown: {
            Task { for server in servers { await server.stop() } }
        }
        cleanup.cancel()
        clusterTask?.cancel()
        _ = await clusterTask?.result
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
