import NIOCore

/// Checked readers for the Kafka wire primitives.
///
/// Every reader throws ``KafkaProtocolError`` when the buffer holds too few bytes or a length is negative,
/// absurd or larger than what remains, so malformed input can never crash or trigger an unbounded allocation.
/// All integers are big-endian; varints follow Kafka's (protobuf-style) unsigned and zigzag encodings.
/// `field` names the value in the error. Each reader advances the reader index past what it read; after a throw
/// the index is unspecified. These are the readers the generated message and record codecs use, the counterpart
/// of ``KafkaWriter``.
///
/// Thread-safety: like any `ByteBuffer` mutation, a read needs exclusive access to the buffer variable.
extension ByteBuffer {
    /// Reads a big-endian fixed-width integer (int8 ... int64, uint16, uint32).
    @inlinable
    public mutating func readKafkaInteger<T: FixedWidthInteger>(_ type: T.Type = T.self, field: StaticString) throws -> T {
        guard let value = readInteger(endianness: .big, as: T.self) else {
            throw KafkaProtocolError.truncated(field)
        }
        return value
    }

    /// Reads a boolean byte: zero is `false`, anything else `true`.
    @inlinable
    public mutating func readKafkaBool(field: StaticString) throws -> Bool {
        try readKafkaInteger(UInt8.self, field: field) != 0
    }

    /// Reads a big-endian IEEE 754 double.
    @inlinable
    public mutating func readKafkaFloat64(field: StaticString) throws -> Double {
        Double(bitPattern: try readKafkaInteger(UInt64.self, field: field))
    }

    /// Reads an unsigned varint of at most 5 bytes (32 bits).
    @inlinable
    public mutating func readUnsignedVarint(field: StaticString) throws -> UInt32 {
        var result: UInt32 = 0
        var shift: UInt32 = 0
        while true {
            guard let byte = readInteger(as: UInt8.self) else { throw KafkaProtocolError.truncated(field) }
            if shift == 28 && byte > 0x0F { throw KafkaProtocolError.invalid(field, "varint longer than 32 bits") }
            result |= UInt32(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// Reads an unsigned varint of at most 10 bytes (64 bits).
    @inlinable
    public mutating func readUnsignedVarlong(field: StaticString) throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard let byte = readInteger(as: UInt8.self) else { throw KafkaProtocolError.truncated(field) }
            if shift == 63 && byte > 0x01 { throw KafkaProtocolError.invalid(field, "varint longer than 64 bits") }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// Reads a zigzag-encoded signed 32-bit varint.
    @inlinable
    public mutating func readVarint(field: StaticString) throws -> Int32 {
        let raw = try readUnsignedVarint(field: field)
        return Int32(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    /// Reads a zigzag-encoded signed 64-bit varint.
    @inlinable
    public mutating func readVarlong(field: StaticString) throws -> Int64 {
        let raw = try readUnsignedVarlong(field: field)
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    /// Reads a length prefix: int16 (`compact == false`, strings), int32 (`wide`, bytes and arrays) or an unsigned
    /// varint holding length + 1 (`compact`). Returns `nil` for a null marker. A length (or element count) larger
    /// than the remaining bytes is rejected before anything is allocated.
    @inlinable
    public mutating func readKafkaLength(compact: Bool, wide: Bool, field: StaticString) throws -> Int? {
        let length: Int
        if compact {
            let raw = try readUnsignedVarint(field: field)
            if raw == 0 { return nil }
            length = Int(raw) - 1
        } else if wide {
            let raw = try readKafkaInteger(Int32.self, field: field)
            if raw < 0 {
                guard raw == -1 else { throw KafkaProtocolError.invalid(field, "negative length \(raw)") }
                return nil
            }
            length = Int(raw)
        } else {
            let raw = try readKafkaInteger(Int16.self, field: field)
            if raw < 0 {
                guard raw == -1 else { throw KafkaProtocolError.invalid(field, "negative length \(raw)") }
                return nil
            }
            length = Int(raw)
        }
        if length > readableBytes {
            throw KafkaProtocolError.invalid(field, "length \(length) exceeds the \(readableBytes) remaining bytes")
        }
        return length
    }

    /// Reads a string (int16 length, or compact) that may be null.
    @inlinable
    public mutating func readKafkaNullableString(compact: Bool, field: StaticString) throws -> String? {
        guard let length = try readKafkaLength(compact: compact, wide: false, field: field) else { return nil }
        guard let string = readString(length: length) else { throw KafkaProtocolError.truncated(field) }
        return string
    }

    /// Reads a string that must not be null.
    @inlinable
    public mutating func readKafkaString(compact: Bool, field: StaticString) throws -> String {
        guard let string = try readKafkaNullableString(compact: compact, field: field) else {
            throw KafkaProtocolError.invalid(field, "null where a non-nullable string was expected")
        }
        return string
    }

    /// Reads bytes (int32 length, or compact) that may be null, as a slice of this buffer (no copy).
    @inlinable
    public mutating func readKafkaNullableBytes(compact: Bool, field: StaticString) throws -> ByteBuffer? {
        guard let length = try readKafkaLength(compact: compact, wide: true, field: field) else { return nil }
        guard let slice = readSlice(length: length) else { throw KafkaProtocolError.truncated(field) }
        return slice
    }

    /// Reads bytes that must not be null, as a slice of this buffer (no copy).
    @inlinable
    public mutating func readKafkaBytes(compact: Bool, field: StaticString) throws -> ByteBuffer {
        guard let bytes = try readKafkaNullableBytes(compact: compact, field: field) else {
            throw KafkaProtocolError.invalid(field, "null where non-nullable bytes were expected")
        }
        return bytes
    }

    /// Reads a `records` field: opaque bytes, kept as a slice of the frame.
    @inlinable
    public mutating func readKafkaRecords(compact: Bool, field: StaticString) throws -> RecordSet? {
        try readKafkaNullableBytes(compact: compact, field: field).map(RecordSet.init(bytes:))
    }

    /// Reads a UUID: 16 bytes, most significant half first.
    @inlinable
    public mutating func readKafkaUUID(field: StaticString) throws -> KafkaUUID {
        let high = try readKafkaInteger(UInt64.self, field: field)
        let low = try readKafkaInteger(UInt64.self, field: field)
        return KafkaUUID(high: high, low: low)
    }

    /// Reads an array count; `nil` is a null array. Counts larger than the remaining bytes are rejected.
    @inlinable
    public mutating func readKafkaArrayCount(compact: Bool, field: StaticString) throws -> Int? {
        try readKafkaLength(compact: compact, wide: true, field: field)
    }

    /// Reads an array whose elements are decoded by `element`.
    @inlinable
    public mutating func readKafkaNullableArray<Element>(
        compact: Bool, field: StaticString, _ element: (inout ByteBuffer) throws -> Element
    ) throws -> [Element]? {
        guard let count = try readKafkaArrayCount(compact: compact, field: field) else { return nil }
        try DecodingBudget.charge(elements: count, of: Element.self, field: field)
        var result: [Element] = []
        result.reserveCapacity(count)
        for _ in 0..<count { result.append(try element(&self)) }
        return result
    }

    /// Reads an array that must not be null, its elements decoded by `element`.
    @inlinable
    public mutating func readKafkaArray<Element>(
        compact: Bool, field: StaticString, _ element: (inout ByteBuffer) throws -> Element
    ) throws -> [Element] {
        guard let array = try readKafkaNullableArray(compact: compact, field: field, element) else {
            throw KafkaProtocolError.invalid(field, "null where a non-nullable array was expected")
        }
        return array
    }
}
