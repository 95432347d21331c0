/// Settings of an `EtcdClient`. `Sendable` value type with defaults for everything but the endpoints.
public struct EtcdClientConfiguration: Sendable {
    /// The members' client URLs; requests go to one at a time and fail over to the next.
    public var endpoints: [EtcdEndpoint]
    /// Time allowed for one unary request on one endpoint, connection included.
    public var requestTimeout: Duration
    /// Time allowed for a TCP connection to be established.
    public var connectTimeout: Duration
    /// Largest answer body accepted for a unary request; larger answers fail with `.malformedResponse`.
    public var maxResponseBytes: Int
    /// Largest single watch message accepted; a larger one fails the watch with `.malformedResponse`.
    public var maxWatchMessageBytes: Int
    /// Pause before a broken watch stream is reopened on the next endpoint.
    public var watchRetryDelay: Duration

    public init(
        endpoints: [EtcdEndpoint],
        requestTimeout: Duration = .seconds(5),
        connectTimeout: Duration = .seconds(2),
        maxResponseBytes: Int = 64 << 20,
        maxWatchMessageBytes: Int = 16 << 20,
        watchRetryDelay: Duration = .milliseconds(200)
    ) {
        self.endpoints = endpoints
        self.requestTimeout = requestTimeout
        self.connectTimeout = connectTimeout
        self.maxResponseBytes = maxResponseBytes
        self.maxWatchMessageBytes = maxWatchMessageBytes
        self.watchRetryDelay = watchRetryDelay
    }
}
