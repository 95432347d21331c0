import EtcdClient

/// Where and how a broker keeps cluster metadata in etcd: `metadata.etcd.endpoints` (comma-separated client
/// URLs), `metadata.etcd.prefix` (the root of every key), `broker.session.timeout.ms` (how long a silent broker
/// stays registered) and `broker.heartbeat.interval.ms` (how often its session is renewed). `Sendable` value.
///
/// Without `metadata.etcd.endpoints` the broker runs alone, as a single node, and none of this applies.
public struct ClusterMetadataConfig: Sendable, Hashable {
    public var endpoints: [EtcdEndpoint]
    public var prefix: String
    public var sessionTimeoutMs: Int64
    public var heartbeatIntervalMs: Int64

    public init(endpoints: [EtcdEndpoint], prefix: String = "/portask/", sessionTimeoutMs: Int64 = 9_000,
                heartbeatIntervalMs: Int64 = 2_000) {
        self.endpoints = endpoints
        self.prefix = prefix
        self.sessionTimeoutMs = sessionTimeoutMs
        self.heartbeatIntervalMs = heartbeatIntervalMs
    }

    /// The settings in `config`; nil when `metadata.etcd.endpoints` is not set (single-node mode).
    public init?(config: BrokerConfig) throws {
        func value(_ name: String) -> String? {
            (config.properties[name] ?? BrokerConfigDefinition.byName[name]?.defaultValue)?.trimmingWhitespace()
        }
        guard let list = value("metadata.etcd.endpoints"), !list.isEmpty else { return nil }
        guard let endpoints = EtcdEndpoint.parseList(list) else {
            throw BrokerError(
                .configuration, "Invalid value \(list) for configuration metadata.etcd.endpoints: expected http://host:port,...")
        }
        var prefix = value("metadata.etcd.prefix") ?? "/portask/"
        if !prefix.hasSuffix("/") { prefix += "/" }
        let session = value("broker.session.timeout.ms").flatMap { Int64($0) } ?? 9_000
        let heartbeat = value("broker.heartbeat.interval.ms").flatMap { Int64($0) } ?? 2_000
        guard session >= 1_000, heartbeat > 0, heartbeat < session else {
            throw BrokerError(
                .configuration,
                "broker.heartbeat.interval.ms (\(heartbeat)) must be positive and below broker.session.timeout.ms "
                    + "(\(session), at least 1000)")
        }
        self.init(endpoints: endpoints, prefix: prefix, sessionTimeoutMs: session, heartbeatIntervalMs: heartbeat)
    }

    /// The session TTL in whole seconds (etcd leases count seconds), rounded up.
    public var sessionTTLSeconds: Int64 { (sessionTimeoutMs &+ 999) / 1_000 }
}
