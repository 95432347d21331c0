/// A bounds-checked big-endian and varint reader over raw bytes, for decoding records from untrusted input.
/// Every read throws `corruptBatch` instead of reading past `end`.
///
/// Thread-safety: a value type over memory the caller keeps alive.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    var position: Int
    let end: Int

    init(_ bytes: UnsafeRawBufferPointer, from position: Int = 0, end: Int? = nil) {
        self.bytes = bytes
        self.position = position
        self.end = min(end ?? bytes.count, bytes.count)
    }

    var remaining: Int { end - position }

    private func need(_ count: Int, _ what: String) throws {
        guard count >= 0, count <= remaining else {
            throw LogEngineError(.corruptBatch, "truncated \(what)", context: "position \(position)")
        }
    }

    mutating func int8(_ what: String) throws -> Int8 {
        try need(1, what)
        defer { position += 1 }
        return Int8(bitPattern: bytes[position])
    }

    mutating func int16(_ what: String) throws -> Int16 {
        try need(2, what)
        defer { position += 2 }
        return bytes.int16BE(at: position)
    }

    mutating func int32(_ what: String) throws -> Int32 {
        try need(4, what)
        defer { position += 4 }
        return bytes.int32BE(at: position)
    }

    mutating func uint32(_ what: String) throws -> UInt32 {
        try need(4, what)
        defer { position += 4 }
        return bytes.uint32BE(at: position)
    }

    mutating func int64(_ what: String) throws -> Int64 {
        try need(8, what)
        defer { position += 8 }
        return bytes.int64BE(at: position)
    }

    mutating func varint(_ what: String) throws -> Int64 {
        guard let value = RecordBatchHeader.readVarint(bytes, &position, end: end) else {
            throw LogEngineError(.corruptBatch, "malformed varint in \(what)", context: "position \(position)")
        }
        return value
    }

    mutating func take(count: Int, _ what: String) throws -> [UInt8] {
        try need(count, what)
        defer { position += count }
        return Array(UnsafeRawBufferPointer(rebasing: bytes[position..<(position + count)]))
    }

    /// Bytes with a varint length (-1: null), as in records v2.
    mutating func varintBytes(_ what: String) throws -> [UInt8]? {
        let length = try varint(what)
        if length == -1 { return nil }
        guard length >= 0, length <= Int64(remaining) else {
            throw LogEngineError(.corruptBatch, "invalid length \(length) of \(what)", context: "position \(position)")
        }
        return try take(count: Int(length), what)
    }

    /// Bytes with an int32 length (-1: null), as in message format v0/v1.
    mutating func int32Bytes(_ what: String) throws -> [UInt8]? {
        let length = try int32(what)
        if length == -1 { return nil }
        guard length >= 0 else {
            throw LogEngineError(.corruptBatch, "invalid length \(length) of \(what)", context: "position \(position)")
        }
        return try take(count: Int(length), what)
    }
}
