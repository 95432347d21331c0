import KafkaProtocol
import NIOCore

/// Routes decoded requests to the handler of their API, and answers what no handler can.
///
/// Built once at start-up; immutable and thread-safe afterwards.
public struct RequestRouter: Sendable {
    private let handlers: [ApiKey: ApiHandler]
    /// The client quotas requests are measured against (`request_percentage`), handed to each request's context.
    let quotas: ClientQuotaEnforcer?
    /// Told the id of every connection that closed (ends the share sessions it opened).
    let connectionClosed: @Sendable (UInt64) -> Void

    public init(_ handlers: [ApiHandler]) {
        self.init(handlers, quotas: nil)
    }

    init(
        _ handlers: [ApiHandler], quotas: ClientQuotaEnforcer?,
        connectionClosed: @escaping @Sendable (UInt64) -> Void = { _ in }
    ) {
        self.handlers = Dictionary(handlers.map { ($0.apiKey, $0) }, uniquingKeysWith: { _, last in last })
        self.quotas = quotas
        self.connectionClosed = connectionClosed
    }

    /// The served APIs with their version ranges, ordered by key: exactly what ApiVersions advertises.
    public var supportedVersions: [(apiKey: ApiKey, versions: ClosedRange<Int16>)] {
        handlers.values.map { ($0.apiKey, $0.versions) }.sorted { $0.apiKey.rawValue < $1.apiKey.rawValue }
    }

    /// The handler for `apiKey`, or `nil` when the API is not served.
    public func handler(for apiKey: ApiKey) -> ApiHandler? {
        handlers[apiKey]
    }
}
