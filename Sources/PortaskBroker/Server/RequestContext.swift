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
    /// The name of the listener the request arrived on.
    public var listenerName: String
    /// Who sent the request: the authenticated user, or `User:ANONYMOUS`.
    public var principal: KafkaPrincipal
    /// Where a handler asks for the connection to be muted by a quota throttle (nil outside a connection).
    public var throttle: ConnectionThrottle?
    /// The client quotas the request is measured against (nil when the broker enforces none).
    var quotas: ClientQuotaEnforcer?
    /// The client software the connection's ApiVersions request (v3+) named ("" when none did).
    var clientSoftwareName = ""
    var clientSoftwareVersion = ""

    public init(
        apiKey: ApiKey, apiVersion: Int16, correlationId: Int32, clientId: String?, connectionId: UInt64 = 0,
        clientAddress: String = "", throttle: ConnectionThrottle? = nil, listenerName: String = "PLAINTEXT",
        principal: KafkaPrincipal = .anonymous
    ) {
        self.throttle = throttle
        self.listenerName = listenerName
        self.principal = principal
        self.apiKey = apiKey
        self.apiVersion = apiVersion
        self.correlationId = correlationId
        self.clientId = clientId
        self.connectionId = connectionId
        self.clientAddress = clientAddress
    }

    /// The client's IP address (the host ACLs are matched against), or "" when unknown.
    public var clientHost: String {
        guard let colon = clientAddress.lastIndex(of: ":") else { return clientAddress }
        return String(clientAddress[..<colon])
    }
}
