/// A broker's entry in the cluster metadata (`brokers/<node id>`, bound to the broker's session): who it is and
/// where clients reach it. Stored as JSON. `Sendable` value.
public struct BrokerRegistration: Sendable, Hashable, Codable {
    public struct Endpoint: Sendable, Hashable, Codable {
        public var listener: String
        public var host: String
        public var port: Int32
        public var securityProtocol: String

        public init(listener: String, host: String, port: Int32, securityProtocol: String) {
            self.listener = listener
            self.host = host
            self.port = port
            self.securityProtocol = securityProtocol
        }
    }

    public var nodeId: Int32
    public var endpoints: [Endpoint]
    public var rack: String?

    public init(nodeId: Int32, endpoints: [Endpoint], rack: String? = nil) {
        self.nodeId = nodeId
        self.endpoints = endpoints
        self.rack = rack
    }
}

/// A registration as read back: the broker epoch is the create revision of its key, so every incarnation of a
/// broker (every new session) has a larger epoch than the one before.
public struct RegisteredBroker: Sendable, Hashable {
    public var registration: BrokerRegistration
    public var brokerEpoch: Int64
    public var session: Int64
}

/// The current controller: the node that holds the `controller` key, and the epoch of its leadership (the
/// create revision of that key; a newer controller always has a larger one).
public struct ControllerLeadership: Sendable, Hashable {
    public var nodeId: Int32
    public var controllerEpoch: Int64
    public var brokerEpoch: Int64
}
