import Logging
import NIOConcurrencyHelpers

/// Keeps one broker registered in the cluster metadata and competing for the controller seat.
///
/// `run()` checks the cluster id, opens a session (TTL = `broker.session.timeout.ms`), registers the broker
/// under it (a duplicate `node.id` ends `run()` with `.configuration`), campaigns for the controller, then renews
/// the session every `broker.heartbeat.interval.ms`, campaigning again whenever the seat is free. When the
/// session is lost (the store reports it expired) the broker stops counting itself registered or
/// controller at once, then registers again under a new session, with a new broker epoch. While the store cannot be
/// reached the broker stays registered (see `keepAlive`). Cancelling `run()`
/// closes the session, so the broker leaves the cluster at once. Thread-safe: `status` may be read anywhere.
public final class ClusterMembership: Sendable {
    /// What this broker currently is in the cluster.
    public struct Status: Sendable, Hashable {
        /// The broker epoch of the live registration; nil while unregistered.
        public var brokerEpoch: Int64?
        /// The controller as last seen; nil when none is known.
        public var controller: ControllerLeadership?
        /// How many sessions this broker has opened (a new one after each loss).
        public var incarnations: Int

        public var isRegistered: Bool { brokerEpoch != nil }
    }

    public let registry: ClusterRegistry
    public let registration: BrokerRegistration
    public let clusterId: String
    public let config: ClusterMetadataConfig
    private let logger: Logger
    private let current = NIOLockedValueBox(Status(brokerEpoch: nil, controller: nil, incarnations: 0))

    public init(
        registry: ClusterRegistry, registration: BrokerRegistration, clusterId: String, config: ClusterMetadataConfig,
        logger: Logger
    ) {
        self.registry = registry
        self.registration = registration
        self.clusterId = clusterId
        self.config = config
        self.logger = logger
    }

    public var status: Status { current.withLockedValue { $0 } }

    /// Whether this broker is the controller in its live incarnation.
    public var isController: Bool {
        current.withLockedValue { status in
            guard let epoch = status.brokerEpoch, let controller = status.controller else { return false }
            return controller.nodeId == registration.nodeId && controller.brokerEpoch == epoch
        }
    }

    /// Runs until cancelled (then returns after closing the session) or until registration is refused.
    public func run() async throws {
        let store = registry.store
        try await registry.ensureClusterId(clusterId)
        while !Task.isCancelled {
            let session: MetadataSession
            let epoch: Int64
            do {
                session = try await store.openSession(ttlSeconds: config.sessionTTLSeconds)
                epoch = try await registerRetryingWhileAPreviousSessionLingers(session: session.id)
            } catch let error as BrokerError where error.code != .configuration {
                logger.warning("cluster registration failed, retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .milliseconds(config.heartbeatIntervalMs))
                continue
            }
            current.withLockedValue {
                $0.brokerEpoch = epoch
                $0.incarnations += 1
            }
            logger.info("registered in the cluster", metadata: ["node.id": "\(registration.nodeId)", "broker.epoch": "\(epoch)"])
            await keepAlive(session: session, epoch: epoch)
            current.withLockedValue {
                $0.brokerEpoch = nil
                $0.controller = nil
            }
            if Task.isCancelled {
                // Closed on a task of its own: this one is cancelled, and the close must still reach the store so
                // that the broker leaves at once and its next start registers without waiting for the lease.
                await Task { try? await store.closeSession(session.id) }.value
                return
            }
            logger.warning("cluster session lost; registering again", metadata: ["node.id": "\(registration.nodeId)"])
        }
    }

    /// A previous session of this broker (before a restart or a lost session) may still hold its key until it
    /// expires: keep trying for two session timeouts, as Kafka's controller refuses a second registration of a
    /// node id until the first one's session ends; a node id still held after that is a duplicate.
    private func registerRetryingWhileAPreviousSessionLingers(session: Int64) async throws -> Int64 {
        let deadline = ContinuousClock.now.advanced(by: .milliseconds(config.sessionTimeoutMs &* 2))
        while true {
            do {
                return try await registry.register(registration, session: session)
            } catch let error as BrokerError where error.code == .configuration {
                if ContinuousClock.now > deadline || Task.isCancelled { throw error }
                try await Task.sleep(for: .milliseconds(config.heartbeatIntervalMs))
                // Keep this broker's own new session alive while it waits.
                try await registry.store.renewSession(session)
            }
        }
    }

    /// Renews the session and competes for the controller until the session is lost or the task is cancelled.
    private func keepAlive(session: MetadataSession, epoch: Int64) async {
        var lastRenewal = ContinuousClock.now
        while !Task.isCancelled {
            do {
                if current.withLockedValue({ $0.controller == nil }) {
                    let controller = try await registry.campaign(
                        nodeId: registration.nodeId, brokerEpoch: epoch, session: session.id)
                    current.withLockedValue { $0.controller = controller }
                }
            } catch {
                logger.debug("controller campaign failed", metadata: ["error": "\(error)"])
            }
            do {
                try await Task.sleep(for: .milliseconds(config.heartbeatIntervalMs))
            } catch {
                return
            }
            do {
                try await registry.store.renewSession(session.id)
                lastRenewal = .now
                let controller = try await registry.currentController()
                current.withLockedValue { $0.controller = controller }
            } catch let error as BrokerError where error.code == .metadataSessionExpired {
                return
            } catch {
                // The store cannot be reached (no quorum, no member answers): it cannot expire the session
                // either, so the broker stays registered and goes on serving what it leads; when the store
                // answers again, a session it expired meanwhile is reported as such and the broker registers anew.
                if ContinuousClock.now - lastRenewal >= .milliseconds(config.sessionTimeoutMs) {
                    logger.warning("the metadata store has not answered for a session timeout", metadata: ["error": "\(error)"])
                    lastRenewal = .now
                }
            }
        }
    }
}
