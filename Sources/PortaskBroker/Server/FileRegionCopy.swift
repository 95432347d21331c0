import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns the file regions of a response into bytes (with `pread`), for connections whose bytes pass through
/// TLS, which cannot send a file region. Each region's descriptor is closed once read. Stateless; thread-safe.
enum FileRegionCopy {
    static func materialize(_ parts: [IOData], allocator: ByteBufferAllocator) throws -> [IOData] {
        guard parts.contains(where: { if case .fileRegion = $0 { true } else { false } }) else { return parts }
        var result: [IOData] = []
        result.reserveCapacity(parts.count)
        var failure: Error?
        for part in parts {
            guard case .fileRegion(let region) = part else {
                result.append(part)
                continue
            }
            guard failure == nil else { continue }
            do {
                result.append(.byteBuffer(try read(region, allocator: allocator)))
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        return result
    }

    private static func read(_ region: FileRegion, allocator: ByteBufferAllocator) throws -> ByteBuffer {
        let count = region.readableBytes
        var buffer = allocator.buffer(capacity: count)
        try region.fileHandle.withUnsafeFileDescriptor { descriptor in
            var done = 0
            while done < count {
                let read = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count - done) { pointer in
                    let result = pread(
                        descriptor, pointer.baseAddress, count - done, off_t(region.readerIndex + done))
                    return result > 0 ? result : 0
                }
                guard read > 0 else { throw BrokerError(.io, "short read of a fetched file region") }
                done += read
            }
        }
        return buffer
    }
}
