import Atomics

/// Who this broker is to clients: node id, cluster id and the advertised endpoint.
///
/// The advertised port is settable once the listener is bound (a configured port of 0 picks a free one).
/// Thread-safe.
public final class ClusterIdentity: Sendable {
    public let nodeId: Int32
    public let clusterId: String
    public let advertisedHost: String
    private let port: ManagedAtomic<Int32>

    public init(nodeId: Int32 = 0, clusterId: String, advertisedHost: String, advertisedPort: Int32) {
        self.nodeId = nodeId
        self.clusterId = clusterId
        self.advertisedHost = advertisedHost
        port = ManagedAtomic(advertisedPort)
    }

    public var advertisedPort: Int32 {
        get { port.load(ordering: .acquiring) }
        set { port.store(newValue, ordering: .releasing) }
    }
}
