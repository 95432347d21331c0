/// The one error type of KafkaProtocol: a frame or message could not be decoded or encoded.
///
/// Decoding never traps on malformed input: every failure surfaces as this error with the field that failed.
public struct KafkaProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The input ended before the field was complete.
        case truncated
        /// A length, count, varint or value is out of range.
        case invalid
        /// The API key is not known to this codec.
        case unknownApiKey
        /// The API version is outside the message's valid versions.
        case unsupportedVersion
        /// A value cannot be represented in the requested version.
        case unencodable
        /// A frame is larger than the configured maximum.
        case frameTooLarge
        /// Decoding would allocate more than the request's ``DecodingBudget``.
        case budgetExceeded
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }

    @usableFromInline
    static func truncated(_ field: StaticString) -> KafkaProtocolError {
        KafkaProtocolError(.truncated, "input ended inside \(field)")
    }

    @usableFromInline
    static func invalid(_ field: StaticString, _ detail: String) -> KafkaProtocolError {
        KafkaProtocolError(.invalid, "\(field): \(detail)")
    }
}
