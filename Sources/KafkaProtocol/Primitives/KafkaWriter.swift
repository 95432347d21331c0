import NIOCore

/// Accumulates an encoded Kafka message.
///
/// Most bytes go into `buffer`; a `records` field that carries file regions closes the current buffer part and
/// appends the regions as their own `IOData` parts, so stored batches can leave through sendfile untouched.
/// A value type: not shared between threads.
public struct KafkaWriter: Sendable {
    /// The bytes written since the last non-buffer part.
    public var buffer: ByteBuffer
    /// Completed parts, in order, before `buffer`.
    public private(set) var completedParts: [IOData] = []
    /// Bytes held in `completedParts`.
    public private(set) var completedByteCount = 0
    /// What the written record sets retain (see `RecordSet.retained`), to be kept until the parts are written.
    public private(set) var retained: [any AnyObject & Sendable] = []

    public init(allocator: ByteBufferAllocator = ByteBufferAllocator(), capacity: Int = 256) {
        buffer = allocator.buffer(capacity: capacity)
    }

    public init(buffer: ByteBuffer) {
        self.buffer = buffer
    }

    /// Total number of bytes written so far across all parts.
    public var byteCount: Int { completedByteCount + buffer.readableBytes }

    /// The encoded message as parts: one `ByteBuffer` unless file regions were written.
    public func parts() -> [IOData] {
        var result = completedParts
        if buffer.readableBytes > 0 || result.isEmpty { result.append(.byteBuffer(buffer)) }
        return result
    }

    /// Appends a part that is not in `buffer` (a file region or a foreign buffer) without copying it.
    public mutating func appendPart(_ part: IOData) {
        if buffer.readableBytes > 0 {
            completedParts.append(.byteBuffer(buffer))
            completedByteCount += buffer.readableBytes
            buffer = ByteBufferAllocator().buffer(capacity: 256)
        }
        completedParts.append(part)
        completedByteCount += part.readableBytes
    }

    @inlinable
    public mutating func writeInteger<T: FixedWidthInteger>(_ value: T) {
        buffer.writeInteger(value, endianness: .big)
    }

    @inlinable
    public mutating func writeBool(_ value: Bool) {
        buffer.writeInteger(value ? 1 : 0, as: UInt8.self)
    }

    @inlinable
    public mutating func writeFloat64(_ value: Double) {
        buffer.writeInteger(value.bitPattern, endianness: .big)
    }

    @inlinable
    public mutating func writeUnsignedVarint(_ value: UInt32) {
        var v = value
        while v >= 0x80 {
            buffer.writeInteger(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        buffer.writeInteger(UInt8(v))
    }

    @inlinable
    public mutating func writeUnsignedVarlong(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            buffer.writeInteger(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        buffer.writeInteger(UInt8(v))
    }

    @inlinable
    public mutating func writeVarint(_ value: Int32) {
        writeUnsignedVarint(UInt32(bitPattern: (value << 1) ^ (value >> 31)))
    }

    @inlinable
    public mutating func writeVarlong(_ value: Int64) {
        writeUnsignedVarlong(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    /// Writes a length prefix (see `ByteBuffer.readKafkaLength`); `nil` writes the null marker.
    @inlinable
    public mutating func writeLength(_ length: Int?, compact: Bool, wide: Bool) {
        if compact {
            writeUnsignedVarint(length.map { UInt32(truncatingIfNeeded: $0 + 1) } ?? 0)
        } else if wide {
            writeInteger(Int32(truncatingIfNeeded: length ?? -1))
        } else {
            writeInteger(Int16(truncatingIfNeeded: length ?? -1))
        }
    }

    @inlinable
    public mutating func writeString(_ value: String?, compact: Bool, field: StaticString) throws {
        guard let value else {
            writeLength(nil, compact: compact, wide: false)
            return
        }
        let count = value.utf8.count
        guard compact || count <= Int(Int16.max) else {
            throw KafkaProtocolError(.unencodable, "\(field): string of \(count) bytes exceeds 32767")
        }
        writeLength(count, compact: compact, wide: false)
        buffer.writeString(value)
    }

    /// Writes a string as Kafka's record schemas store it: like ``writeString(_:compact:field:)``, but a string
    /// longer than 32767 bytes throws for compact strings too, as Kafka's generated record writers refuse it.
    @inlinable
    public mutating func writeBoundedString(_ value: String?, compact: Bool, field: StaticString) throws {
        if let count = value?.utf8.count, count > Int(Int16.max) {
            throw KafkaProtocolError(.unencodable, "\(field): string of \(count) bytes exceeds 32767")
        }
        try writeString(value, compact: compact, field: field)
    }

    /// Writes bytes like ``writeBytes(_:compact:)``, but throws instead of truncating a length that does not fit
    /// an int32.
    @inlinable
    public mutating func writeCheckedBytes(_ value: ByteBuffer?, compact: Bool, field: StaticString) throws {
        try Self.checkLength(value?.readableBytes, field: field)
        writeBytes(value, compact: compact)
    }

    /// Writes an array count like ``writeArrayCount(_:compact:)``, but throws instead of truncating a count that
    /// does not fit an int32.
    @inlinable
    public mutating func writeCheckedArrayCount(_ count: Int?, compact: Bool, field: StaticString) throws {
        try Self.checkLength(count, field: field)
        writeArrayCount(count, compact: compact)
    }

    @inlinable
    static func checkLength(_ length: Int?, field: StaticString) throws {
        if let length, length >= Int(Int32.max) {
            throw KafkaProtocolError(.unencodable, "\(field): length \(length) does not fit an int32")
        }
    }

    @inlinable
    public mutating func writeBytes(_ value: ByteBuffer?, compact: Bool) {
        guard let value else {
            writeLength(nil, compact: compact, wide: true)
            return
        }
        writeLength(value.readableBytes, compact: compact, wide: true)
        buffer.writeImmutableBuffer(value)
    }

    /// Writes a `records` field: its length, then its parts (file regions stay file regions).
    public mutating func writeRecords(_ value: RecordSet?, compact: Bool) {
        guard let value else {
            writeLength(nil, compact: compact, wide: true)
            return
        }
        writeLength(value.byteCount, compact: compact, wide: true)
        retained += value.retained
        for part in value.parts {
            switch part {
            case .byteBuffer(let bytes): buffer.writeImmutableBuffer(bytes)
            case .fileRegion: appendPart(part)
            }
        }
    }

    @inlinable
    public mutating func writeUUID(_ value: KafkaUUID) {
        writeInteger(value.high)
        writeInteger(value.low)
    }

    @inlinable
    public mutating func writeArrayCount(_ count: Int?, compact: Bool) {
        writeLength(count, compact: compact, wide: true)
    }
}
