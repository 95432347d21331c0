import CLZ4

// LZ4 frames (https://github.com/lz4/lz4/blob/dev/doc/lz4_Frame_format.md) as Kafka writes them: independent
// 64 KiB blocks. Message format v0 used a header checksum computed over the magic number too; with
// `legacyHeaderChecksum` the checksum byte is recomputed before decoding so such frames are read.

extension CompressionCodec {
    static func unlz4(_ input: UnsafeRawBufferPointer, maxBytes: Int, legacyHeaderChecksum: Bool) throws -> [UInt8] {
        if legacyHeaderChecksum, let patched = patchedLegacyHeader(input) {
            return try patched.withUnsafeBytes { try unlz4(frames: $0, maxBytes: maxBytes) }
        }
        return try unlz4(frames: input, maxBytes: maxBytes)
    }

    private static func unlz4(frames input: UnsafeRawBufferPointer, maxBytes: Int) throws -> [UInt8] {
        guard input.count > 0 else { throw failure(.lz4, "empty input") }
        var context: OpaquePointer?
        guard LZ4F_isError(LZ4F_createDecompressionContext(&context, UInt32(LZ4F_VERSION))) == 0, let context else {
            throw failure(.lz4, "cannot create a decompression context")
        }
        defer { LZ4F_freeDecompressionContext(context) }
        var output = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var position = 0
        var hint = 1
        while position < input.count {
            var consumed = input.count - position
            var produced = chunk.count
            hint = chunk.withUnsafeMutableBytes { out in
                LZ4F_decompress(context, out.baseAddress, &produced, input.baseAddress?.advanced(by: position), &consumed, nil)
            }
            if LZ4F_isError(hint) != 0 {
                throw failure(.lz4, String(cString: LZ4F_getErrorName(hint)))
            }
            position += consumed
            output.append(contentsOf: chunk[0..<produced])
            try checkLimit(output.count, maxBytes, .lz4)
            if consumed == 0 && produced == 0 { break }
        }
        // Drain output still buffered in the context.
        while hint != 0 {
            var consumed = 0
            var produced = chunk.count
            hint = chunk.withUnsafeMutableBytes { out in
                LZ4F_decompress(context, out.baseAddress, &produced, input.baseAddress?.advanced(by: input.count), &consumed, nil)
            }
            if LZ4F_isError(hint) != 0 { throw failure(.lz4, String(cString: LZ4F_getErrorName(hint))) }
            if produced == 0 { break }
            output.append(contentsOf: chunk[0..<produced])
            try checkLimit(output.count, maxBytes, .lz4)
        }
        guard hint == 0 else { throw failure(.lz4, "truncated frame") }
        return output
    }

    static func lz4(_ input: UnsafeRawBufferPointer) throws -> [UInt8] {
        var preferences = LZ4F_preferences_t()
        preferences.frameInfo.blockSizeID = LZ4F_max64KB
        preferences.frameInfo.blockMode = LZ4F_blockIndependent
        var output = [UInt8](repeating: 0, count: LZ4F_compressFrameBound(input.count, &preferences))
        let size = output.withUnsafeMutableBytes { out in
            LZ4F_compressFrame(out.baseAddress, out.count, input.baseAddress, input.count, &preferences)
        }
        if LZ4F_isError(size) != 0 { throw failure(.lz4, String(cString: LZ4F_getErrorName(size))) }
        output.removeLast(output.count - size)
        return output
    }

    /// A copy of the frame with the header checksum recomputed over the frame descriptor only (the correct
    /// range), or nil when the input does not start with an LZ4 frame header.
    static func patchedLegacyHeader(_ input: UnsafeRawBufferPointer) -> [UInt8]? {
        guard input.count >= 7, input.uint32LE(at: 0) == 0x184D2204 else { return nil }
        let flags = input[4]
        let descriptorEnd = 6 + (flags & 0x08 != 0 ? 8 : 0) + (flags & 0x01 != 0 ? 4 : 0)
        guard input.count > descriptorEnd else { return nil }
        var bytes = Array(input)
        let checksum = bytes[4..<descriptorEnd].withUnsafeBytes { XXHash32.hash($0, seed: 0) }
        bytes[descriptorEnd] = UInt8((checksum >> 8) & 0xFF)
        return bytes
    }
}

extension UnsafeRawBufferPointer {
    func uint32LE(at offset: Int) -> UInt32 {
        UInt32(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }
}
