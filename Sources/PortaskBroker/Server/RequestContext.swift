import KafkaProtocol

/// What a request handler knows about the request it serves: header facts and the connection it came on.
/// A value type; thread-safe.
public struct RequestContext: Sendable {
    public var apiKey: ApiKey
    public var apiVersion: Int16
    public var correlationId: Int32
    public var clientId: String?
    /// A process-unique number of the connection.
    public var connectionId: UInt64
    /// The client's address as `host:port`, or "" when unknown.
    public var clientAddress: String
    /// Where a handler asks for the connection to be muted by a quota throttle (nil outside a connection).
    public var throttle: ConnectionThrottle?

    public init(
        apiKey: ApiKey, apiVersion: Int16, correlationId: Int32, clientId: String?, connectionId: UInt64 = 0,
        clientAddress: String = "", throttle: ConnectionThrottle? = nil
    ) {
        self.throttle = throttle
        self.apiKey = apiKey
        self.apiVersion = apiVersion
        self.correlationId = correlationId
        self.clientId = clientId
        self.connectionId = connectionId
        self.clientAddress = clientAddress
    }
}
