import NIOCore

/// The header that starts every response frame.
///
/// Layout: v0 `correlationId int32`; v1 adds a tagged-field section. ApiVersions responses always use v0.
/// A value type; thread-safe.
public struct ResponseHeader: Sendable, Equatable {
    public var correlationId: Int32
    public var unknownTaggedFields: [UnknownTaggedField]

    public init(correlationId: Int32, unknownTaggedFields: [UnknownTaggedField] = []) {
        self.correlationId = correlationId
        self.unknownTaggedFields = unknownTaggedFields
    }

    public init(from buffer: inout ByteBuffer, headerVersion: Int16) throws {
        correlationId = try buffer.readKafkaInteger(Int32.self, field: "ResponseHeader.correlationId")
        unknownTaggedFields = []
        if headerVersion >= 1 {
            var tags = try TaggedFieldsReader(&buffer, field: "ResponseHeader")
            while let field = try tags.next(&buffer) {
                unknownTaggedFields.append(UnknownTaggedField(tag: field.tag, data: field.data))
            }
        }
    }

    public func encode(to writer: inout KafkaWriter, headerVersion: Int16) throws {
        writer.writeInteger(correlationId)
        if headerVersion >= 1 { try TaggedFieldsWriter(unknown: unknownTaggedFields).write(to: &writer) }
    }
}
