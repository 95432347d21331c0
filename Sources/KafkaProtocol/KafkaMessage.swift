import NIOCore

/// A message body described by one of Kafka's JSON schemas: a request, a response, or a data record.
///
/// Conforming types are generated value types: `Sendable`, no shared state.
public protocol KafkaMessage: Sendable, Equatable {
    /// The versions this message can be encoded and decoded in.
    static var validVersions: ClosedRange<Int16> { get }
    /// The first flexible version (compact encodings and tagged fields), or `nil` when none is flexible.
    static var firstFlexibleVersion: Int16? { get }

    /// Decodes the message body in `version` from `buffer`, advancing its reader index.
    init(from buffer: inout ByteBuffer, version: Int16) throws

    /// Encodes the message body in `version`.
    func encode(to writer: inout KafkaWriter, version: Int16) throws
}

/// A request or response message of a Kafka API.
public protocol KafkaApiMessage: KafkaMessage {
    static var apiKey: ApiKey { get }
}

/// A request message of a Kafka API.
public protocol KafkaRequestMessage: KafkaApiMessage {}

/// A response message of a Kafka API.
public protocol KafkaResponseMessage: KafkaApiMessage {}

extension KafkaMessage {
    /// Decodes a whole message body in `version`, rejecting unsupported versions.
    public static func decode(from buffer: inout ByteBuffer, version: Int16) throws -> Self {
        guard validVersions.contains(version) else {
            throw KafkaProtocolError(.unsupportedVersion, "\(Self.self) has no version \(version)")
        }
        return try Self(from: &buffer, version: version)
    }

    /// Encodes the message body in `version` into a new buffer (file-region records are not allowed here).
    public func encoded(version: Int16) throws -> ByteBuffer {
        var writer = KafkaWriter()
        try checkedEncode(to: &writer, version: version)
        guard writer.completedParts.isEmpty else {
            throw KafkaProtocolError(.unencodable, "\(Self.self) holds file regions; encode it with a KafkaWriter")
        }
        return writer.buffer
    }

    /// Encodes the message body in `version`, rejecting unsupported versions.
    public func checkedEncode(to writer: inout KafkaWriter, version: Int16) throws {
        guard Self.validVersions.contains(version) else {
            throw KafkaProtocolError(.unsupportedVersion, "\(Self.self) has no version \(version)")
        }
        try encode(to: &writer, version: version)
    }
}
