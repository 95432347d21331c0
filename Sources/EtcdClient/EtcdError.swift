/// The one error type of the EtcdClient module.
///
/// `code` says what kind of failure it is; `message` is human-readable (for `.server`, etcd's own text);
/// `context` names the operation and endpoint. Value type, `Sendable`.
public struct EtcdError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        /// No endpoint could be reached, or every endpoint failed before the request was sent.
        case unavailable
        /// The connection failed after a write request was sent: it may or may not have been applied.
        case outcomeUnknown
        /// The request did not complete within the configured request timeout.
        case timeout
        /// etcd answered with an error (`grpcCode` holds its gRPC status code).
        case server
        /// The requested revision has been compacted away (`compactRevision` holds etcd's compaction point).
        case compacted
        /// The lease no longer exists (expired or revoked).
        case leaseNotFound
        /// The answer could not be parsed, or exceeded a configured size bound.
        case malformedResponse
        /// The caller passed an argument etcd cannot accept (an empty endpoint list, a negative TTL, ...).
        case invalidArgument
    }

    public var code: Code
    public var message: String
    public var context: String
    /// The gRPC status code etcd answered with, for `.server` (and `.compacted` from a range).
    public var grpcCode: Int?
    /// For `.compacted`: the oldest revision still available (etcd's compact revision), when known.
    public var compactRevision: Int64?

    public init(
        _ code: Code, _ message: String, context: String = "", grpcCode: Int? = nil, compactRevision: Int64? = nil
    ) {
        self.code = code
        self.message = message
        self.context = context
        self.grpcCode = grpcCode
        self.compactRevision = compactRevision
    }

    public var description: String {
        context.isEmpty ? "etcd \(code): \(message)" : "etcd \(code): \(message) (\(context))"
    }
}
