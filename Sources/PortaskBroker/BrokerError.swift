/// The one error type of PortaskBroker: a code, a message and context.
public struct BrokerError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case io, configuration, invalidRequest, internalError
        /// The metadata store could not be reached or refused the request.
        case metadataUnavailable
        /// A metadata change may or may not have been applied (the connection failed after it was sent).
        case metadataOutcomeUnknown
        /// A metadata watch or read asked for a revision the store no longer keeps: read again.
        case metadataCompacted
        /// The metadata session (etcd lease) has expired or was closed.
        case metadataSessionExpired
    }

    public var code: Code
    public var message: String
    public var context: String

    public init(_ code: Code, _ message: String, context: String = "") {
        self.code = code
        self.message = message
        self.context = context
    }

    public var description: String {
        context.isEmpty ? "\(code.rawValue): \(message)" : "\(code.rawValue): \(message) (\(context))"
    }
}
