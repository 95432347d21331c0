import NIOCore

/// The header that starts every request frame.
///
/// Layout (big-endian): v0 `apiKey int16, apiVersion int16, correlationId int32`; v1 adds `clientId` (nullable
/// int16-length string); v2 adds a tagged-field section. The client id stays a non-compact string even in v2.
/// A value type; thread-safe.
public struct RequestHeader: Sendable, Equatable {
    /// The raw API key: it may name an API this codec does not know.
    public var apiKey: Int16
    public var apiVersion: Int16
    public var correlationId: Int32
    public var clientId: String?
    public var unknownTaggedFields: [UnknownTaggedField]

    public init(
        apiKey: Int16, apiVersion: Int16, correlationId: Int32, clientId: String? = nil,
        unknownTaggedFields: [UnknownTaggedField] = []
    ) {
        self.apiKey = apiKey
        self.apiVersion = apiVersion
        self.correlationId = correlationId
        self.clientId = clientId
        self.unknownTaggedFields = unknownTaggedFields
    }

    /// Reads a header of `headerVersion` (0, 1 or 2).
    public init(from buffer: inout ByteBuffer, headerVersion: Int16) throws {
        apiKey = try buffer.readKafkaInteger(Int16.self, field: "RequestHeader.apiKey")
        apiVersion = try buffer.readKafkaInteger(Int16.self, field: "RequestHeader.apiVersion")
        correlationId = try buffer.readKafkaInteger(Int32.self, field: "RequestHeader.correlationId")
        clientId = headerVersion >= 1
            ? try buffer.readKafkaNullableString(compact: false, field: "RequestHeader.clientId") : nil
        unknownTaggedFields = []
        if headerVersion >= 2 {
            var tags = try TaggedFieldsReader(&buffer, field: "RequestHeader")
            while let field = try tags.next(&buffer) {
                unknownTaggedFields.append(UnknownTaggedField(tag: field.tag, data: field.data))
            }
        }
    }

    public func encode(to writer: inout KafkaWriter, headerVersion: Int16) throws {
        writer.writeInteger(apiKey)
        writer.writeInteger(apiVersion)
        writer.writeInteger(correlationId)
        if headerVersion >= 1 { try writer.writeString(clientId, compact: false, field: "RequestHeader.clientId") }
        if headerVersion >= 2 { try TaggedFieldsWriter(unknown: unknownTaggedFields).write(to: &writer) }
    }

    /// The API key, version and correlation id at the start of a request frame, read without consuming it:
    /// enough to answer a request whose API or version is not served.
    public static func peek(_ frame: ByteBuffer) -> (apiKey: Int16, apiVersion: Int16, correlationId: Int32)? {
        guard let apiKey = frame.getInteger(at: frame.readerIndex, endianness: .big, as: Int16.self),
            let apiVersion = frame.getInteger(at: frame.readerIndex + 2, endianness: .big, as: Int16.self),
            let correlationId = frame.getInteger(at: frame.readerIndex + 4, endianness: .big, as: Int32.self)
        else { return nil }
        return (apiKey, apiVersion, correlationId)
    }
}
