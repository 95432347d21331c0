import NIOConcurrencyHelpers

/// Who this broker is to clients: node id, cluster id and the advertised endpoint of each listener.
///
/// Metadata, DescribeCluster and FindCoordinator answer with the endpoint of the listener the request arrived
/// on, as Kafka does. An advertised port is settable once its listener is bound (a configured port of 0 picks a
/// free one). Thread-safe.
public final class ClusterIdentity: Sendable {
    public let nodeId: Int32
    public let clusterId: String
    /// The first listener's name; its endpoint is `advertisedHost`/`advertisedPort`.
    public let defaultListener: String
    private let endpoints: NIOLockedValueBox<[String: (host: String, port: Int32)]>

    public init(
        nodeId: Int32 = 0, clusterId: String, advertisedHost: String, advertisedPort: Int32,
        defaultListener: String = "PLAINTEXT"
    ) {
        self.nodeId = nodeId
        self.clusterId = clusterId
        self.defaultListener = defaultListener
        endpoints = NIOLockedValueBox([defaultListener: (advertisedHost, advertisedPort)])
    }

    /// The advertised endpoint of `listener`; the first listener's for an unknown name.
    public func endpoint(for listener: String) -> (host: String, port: Int32) {
        endpoints.withLockedValue { $0[listener] ?? $0[defaultListener] ?? ("127.0.0.1", 0) }
    }

    /// Sets the advertised endpoint of `listener`.
    public func setEndpoint(_ listener: String, host: String, port: Int32) {
        endpoints.withLockedValue { $0[listener] = (host, port) }
    }

    public var advertisedHost: String { endpoint(for: defaultListener).host }

    public var advertisedPort: Int32 {
        get { endpoint(for: defaultListener).port }
        set {
            let host = advertisedHost
            setEndpoint(defaultListener, host: host, port: newValue)
        }
    }
}
