import CZstd

// zstd frames; the content size need not be present in the frame header (streaming decompression).

extension CompressionCodec {
    static func unzstd(_ input: UnsafeRawBufferPointer, maxBytes: Int) throws -> [UInt8] {
        guard input.count > 0, let stream = ZSTD_createDStream() else { throw failure(.zstd, "empty input") }
        defer { ZSTD_freeDStream(stream) }
        ZSTD_initDStream(stream)
        var output = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: ZSTD_DStreamOutSize())
        var source = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        var remaining = 1
        while true {
            var produced = 0
            let status: Int = chunk.withUnsafeMutableBytes { out in
                var target = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
                let status = ZSTD_decompressStream(stream, &target, &source)
                produced = target.pos
                return status
            }
            if ZSTD_isError(status) != 0 { throw failure(.zstd, String(cString: ZSTD_getErrorName(status))) }
            remaining = status
            output.append(contentsOf: chunk[0..<produced])
            try checkLimit(output.count, maxBytes, .zstd)
            // Done when a frame ended with all input read; truncated when input ran out mid-frame.
            if source.pos == source.size && (status == 0 || produced < chunk.count) { break }
        }
        guard remaining == 0 else { throw failure(.zstd, "truncated frame") }
        return output
    }

    static func zstd(_ input: UnsafeRawBufferPointer) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: ZSTD_compressBound(input.count))
        let size = output.withUnsafeMutableBytes { out in
            ZSTD_compress(out.baseAddress, out.count, input.baseAddress, input.count, 3)
        }
        if ZSTD_isError(size) != 0 { throw failure(.zstd, String(cString: ZSTD_getErrorName(size))) }
        output.removeLast(output.count - size)
        return output
    }
}
