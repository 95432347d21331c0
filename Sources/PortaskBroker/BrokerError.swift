/// The one error type of PortaskBroker: a code, a message and context.
public struct BrokerError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case io, configuration, invalidRequest, internalError
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
