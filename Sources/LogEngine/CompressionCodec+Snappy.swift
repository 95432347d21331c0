import CSnappy

// Snappy: xerial framing (Java clients) and raw snappy (librdkafka).
//
// xerial framing: 8-byte magic 82 53 4E 41 50 50 59 00, int32 version, int32 compatible version, then blocks of
// int32 length (big-endian) + raw snappy data.

extension CompressionCodec {
    static let xerialMagic: [UInt8] = [0x82, 0x53, 0x4E, 0x41, 0x50, 0x50, 0x59, 0x00]
    static let xerialHeaderSize = 16
    static let xerialBlockSize = 32 * 1024

    static func unsnappy(_ input: UnsafeRawBufferPointer, maxBytes: Int) throws -> [UInt8] {
        guard input.count >= xerialHeaderSize, input.prefix(8).elementsEqual(xerialMagic) else {
            var output = [UInt8]()
            try appendRawSnappy(input, to: &output, maxBytes: maxBytes)
            return output
        }
        var output = [UInt8]()
        var position = xerialHeaderSize
        while position < input.count {
            guard input.count - position >= 4 else { throw failure(.snappy, "truncated xerial block length") }
            let length = Int(input.int32BE(at: position))
            position += 4
            guard length >= 0, length <= input.count - position else {
                throw failure(.snappy, "xerial block length \(length) out of bounds")
            }
            try appendRawSnappy(
                UnsafeRawBufferPointer(rebasing: input[position..<(position + length)]), to: &output,
                maxBytes: maxBytes)
            position += length
        }
        return output
    }

    private static func appendRawSnappy(
        _ block: UnsafeRawBufferPointer, to output: inout [UInt8], maxBytes: Int
    ) throws {
        guard let base = block.baseAddress?.assumingMemoryBound(to: CChar.self), block.count > 0 else {
            throw failure(.snappy, "empty block")
        }
        var length = 0
        guard snappy_validate_compressed_buffer(base, block.count) == SNAPPY_OK,
            snappy_uncompressed_length(base, block.count, &length) == SNAPPY_OK
        else {
            throw failure(.snappy, "invalid block header")
        }
        try checkLimit(output.count + length, maxBytes, .snappy)
        let start = output.count
        output.append(contentsOf: repeatElement(0, count: length))
        var produced = length
        let status = output.withUnsafeMutableBytes { out in
            snappy_uncompress(
                base, block.count, out.baseAddress?.advanced(by: start).assumingMemoryBound(to: CChar.self),
                &produced)
        }
        guard status == SNAPPY_OK, produced == length else { throw failure(.snappy, "invalid block") }
    }

    static func snappy(_ input: UnsafeRawBufferPointer) throws -> [UInt8] {
        var output = xerialMagic
        output.appendInt32BE(1)  // version
        output.appendInt32BE(1)  // compatible version
        var position = 0
        repeat {
            let end = min(position + xerialBlockSize, input.count)
            let block = UnsafeRawBufferPointer(rebasing: input[position..<end])
            var length = snappy_max_compressed_length(block.count)
            var compressed = [UInt8](repeating: 0, count: length)
            let status = compressed.withUnsafeMutableBytes { out in
                snappy_compress(
                    block.baseAddress?.assumingMemoryBound(to: CChar.self), block.count,
                    out.baseAddress?.assumingMemoryBound(to: CChar.self), &length)
            }
            guard status == SNAPPY_OK else { throw failure(.snappy, "compression failed") }
            output.appendInt32BE(Int32(length))
            output.append(contentsOf: compressed[0..<length])
            position = end
        } while position < input.count
        return output
    }
}

extension Array where Element == UInt8 {
    mutating func appendInt32BE(_ value: Int32) {
        let bits = UInt32(bitPattern: value)
        append(contentsOf: [UInt8(bits >> 24), UInt8((bits >> 16) & 0xFF), UInt8((bits >> 8) & 0xFF), UInt8(bits & 0xFF)])
    }

    mutating func appendInt64BE(_ value: Int64) {
        appendInt32BE(Int32(truncatingIfNeeded: value >> 32))
        appendInt32BE(Int32(truncatingIfNeeded: value))
    }

    mutating func appendInt16BE(_ value: Int16) {
        let bits = UInt16(bitPattern: value)
        append(contentsOf: [UInt8(bits >> 8), UInt8(bits & 0xFF)])
    }
}
