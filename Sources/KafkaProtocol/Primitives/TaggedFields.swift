import NIOCore

/// A tagged field this codec does not know, kept as raw bytes so it survives a decode/encode round trip.
public struct UnknownTaggedField: Sendable, Equatable {
    public var tag: UInt32
    public var data: ByteBuffer

    public init(tag: UInt32, data: ByteBuffer) {
        self.tag = tag
        self.data = data
    }
}

/// Iterates over a tagged-field section: a count, then (tag, size, bytes) triples in ascending tag order.
/// Counts, sizes and ordering are validated; a field's bytes are handed out as a slice (no copy).
public struct TaggedFieldsReader {
    @usableFromInline let field: StaticString
    @usableFromInline var remaining: UInt32
    @usableFromInline var previousTag: Int64 = -1

    @inlinable
    public init(_ buffer: inout ByteBuffer, field: StaticString) throws {
        self.field = field
        remaining = try buffer.readUnsignedVarint(field: field)
        guard remaining <= buffer.readableBytes / 2 else {
            throw KafkaProtocolError.invalid(field, "\(remaining) tagged fields in \(buffer.readableBytes) bytes")
        }
    }

    /// The next tagged field, or `nil` after the last.
    @inlinable
    public mutating func next(_ buffer: inout ByteBuffer) throws -> (tag: UInt32, data: ByteBuffer)? {
        guard remaining > 0 else { return nil }
        remaining -= 1
        let tag = try buffer.readUnsignedVarint(field: field)
        guard Int64(tag) > previousTag else { throw KafkaProtocolError.invalid(field, "tagged fields out of order") }
        previousTag = Int64(tag)
        let size = Int(try buffer.readUnsignedVarint(field: field))
        guard let data = buffer.readSlice(length: size) else { throw KafkaProtocolError.truncated(field) }
        return (tag, data)
    }

    /// Checks that a known tagged field was decoded exactly to its end.
    @inlinable
    public func finish(_ data: ByteBuffer) throws {
        guard data.readableBytes == 0 else {
            throw KafkaProtocolError.invalid(field, "a tagged field has \(data.readableBytes) trailing bytes")
        }
    }
}

/// Collects the tagged fields of one struct while it is encoded, then writes them in ascending tag order.
public struct TaggedFieldsWriter {
    @usableFromInline var fields: [(tag: UInt32, data: ByteBuffer)] = []

    @inlinable
    public init(unknown: [UnknownTaggedField]) {
        fields = unknown.map { ($0.tag, $0.data) }
    }

    /// Adds a known field, encoding its value into a scratch buffer.
    @inlinable
    public mutating func add(tag: UInt32, _ encode: (inout KafkaWriter) throws -> Void) rethrows {
        var scratch = KafkaWriter(capacity: 16)
        try encode(&scratch)
        fields.append((tag, scratch.buffer))
    }

    @inlinable
    public func write(to writer: inout KafkaWriter) throws {
        let sorted = fields.sorted { $0.tag < $1.tag }
        for index in sorted.indices.dropFirst() where sorted[index].tag == sorted[index - 1].tag {
            throw KafkaProtocolError(.unencodable, "tagged field \(sorted[index].tag) written twice")
        }
        writer.writeUnsignedVarint(UInt32(sorted.count))
        for field in sorted {
            writer.writeUnsignedVarint(field.tag)
            writer.writeUnsignedVarint(UInt32(field.data.readableBytes))
            writer.buffer.writeImmutableBuffer(field.data)
        }
    }
}
