/// The one error type of KafkaProtocol: decoding or encoding failed.
public struct KafkaProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
