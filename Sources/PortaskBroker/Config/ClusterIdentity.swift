/// Who this broker is to clients: node id, cluster id and the advertised endpoint. Immutable; thread-safe.
public struct ClusterIdentity: Sendable {
    public var nodeId: Int32
    public var clusterId: String
    public var advertisedHost: String
    public var advertisedPort: Int32

    public init(nodeId: Int32 = 0, clusterId: String, advertisedHost: String, advertisedPort: Int32) {
        self.nodeId = nodeId
        self.clusterId = clusterId
        self.advertisedHost = advertisedHost
        self.advertisedPort = advertisedPort
    }
}
