import CZlib

// gzip (RFC 1952) through zlib.

extension CompressionCodec {
    static func gunzip(_ input: UnsafeRawBufferPointer, maxBytes: Int) throws -> [UInt8] {
        guard let base = input.baseAddress, input.count > 0 else { throw failure(.gzip, "empty input") }
        var stream = z_stream()
        // 15 window bits + 32: detect the gzip (or zlib) header.
        guard inflateInit2_(&stream, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw failure(.gzip, "inflateInit failed")
        }
        defer { inflateEnd(&stream) }
        stream.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(input.count)
        var output = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: max(4096, min(input.count * 4, 1 << 20)))
        while true {
            let status: Int32 = chunk.withUnsafeMutableBytes { out in
                stream.next_out = out.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(out.count)
                return inflate(&stream, Z_NO_FLUSH)
            }
            let produced = chunk.count - Int(stream.avail_out)
            output.append(contentsOf: chunk[0..<produced])
            try checkLimit(output.count, maxBytes, .gzip)
            switch status {
            case Z_STREAM_END:
                // Concatenated members: continue with the next one, ignoring trailing zero padding.
                if stream.avail_in == 0 { return output }
                let rest = UnsafeRawBufferPointer(start: stream.next_in, count: Int(stream.avail_in))
                if rest.allSatisfy({ $0 == 0 }) { return output }
                guard inflateReset(&stream) == Z_OK else { throw failure(.gzip, "inflateReset failed") }
            case Z_OK:
                continue
            case Z_BUF_ERROR where stream.avail_in == 0:
                throw failure(.gzip, "truncated stream")
            case Z_BUF_ERROR:
                continue
            default:
                throw failure(.gzip, "inflate failed with status \(status)")
            }
        }
    }

    static func gzip(_ input: UnsafeRawBufferPointer) throws -> [UInt8] {
        var stream = z_stream()
        // 15 window bits + 16: write a gzip header and trailer. Memory level 8, default strategy.
        guard deflateInit2_(
            &stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, zlibVersion(),
            Int32(MemoryLayout<z_stream>.size)) == Z_OK
        else { throw failure(.gzip, "deflateInit failed") }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))) + 32)
        let status: Int32 = output.withUnsafeMutableBytes { out in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.avail_in = uInt(input.count)
            stream.next_out = out.baseAddress?.assumingMemoryBound(to: Bytef.self)
            stream.avail_out = uInt(out.count)
            return deflate(&stream, Z_FINISH)
        }
        guard status == Z_STREAM_END else { throw failure(.gzip, "deflate failed with status \(status)") }
        output.removeLast(Int(stream.avail_out))
        return output
    }
}
