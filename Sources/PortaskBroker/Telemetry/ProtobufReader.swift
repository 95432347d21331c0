/// A small bounded reader of the protobuf wire format: varints, fixed 32/64-bit values and length-delimited
/// fields, nothing else (groups are refused). Every length is checked against the bytes left, varints are at
/// most 10 bytes, and a nesting budget bounds recursion, so hostile input yields an error, never a trap.
/// A value type over a borrowed array slice; not shared between threads.
struct ProtobufReader {
    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    /// Wire types: 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32.
    enum Value {
        case varint(UInt64)
        case fixed64(UInt64)
        case bytes(ArraySlice<UInt8>)
        case fixed32(UInt32)
    }

    private var bytes: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
    }

    var isAtEnd: Bool { bytes.isEmpty }

    /// The next field: its number and value, or nil at the end.
    mutating func next() throws(Malformed) -> (field: UInt64, value: Value)? {
        guard !bytes.isEmpty else { return nil }
        let key = try varint()
        let field = key >> 3
        guard field > 0 else { throw Malformed(description: "field number 0") }
        switch key & 7 {
        case 0: return (field, .varint(try varint()))
        case 1: return (field, .fixed64(try fixed(8)))
        case 2:
            let length = try varint()
            guard length <= UInt64(bytes.count) else { throw Malformed(description: "length \(length) beyond the message") }
            let end = bytes.startIndex + Int(length)
            defer { bytes = bytes[end...] }
            return (field, .bytes(bytes[bytes.startIndex..<end]))
        case 5: return (field, .fixed32(UInt32(truncatingIfNeeded: try fixed(4))))
        default: throw Malformed(description: "unsupported wire type \(key & 7)")
        }
    }

    private mutating func varint() throws(Malformed) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while let byte = bytes.first {
            bytes = bytes.dropFirst()
            guard shift < 64 else { throw Malformed(description: "varint longer than 10 bytes") }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        throw Malformed(description: "truncated varint")
    }

    private mutating func fixed(_ count: Int) throws(Malformed) -> UInt64 {
        guard bytes.count >= count else { throw Malformed(description: "truncated fixed-width value") }
        var value: UInt64 = 0
        for (shift, byte) in bytes.prefix(count).enumerated() { value |= UInt64(byte) << (8 * UInt64(shift)) }
        bytes = bytes.dropFirst(count)
        return value
    }
}

extension ProtobufReader.Value {
    /// The field as a UTF-8 string (invalid sequences repaired), or nil when it is not length-delimited.
    var string: String? {
        guard case .bytes(let slice) = self else { return nil }
        return String(decoding: slice, as: UTF8.self)
    }

    var message: ArraySlice<UInt8>? {
        guard case .bytes(let slice) = self else { return nil }
        return slice
    }
}
