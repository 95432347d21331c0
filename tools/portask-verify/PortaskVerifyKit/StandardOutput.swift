#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Buffered writes to a file descriptor (standard output by default), flushed every 64 KiB and by `flush()`.
///
/// Thread-safety: not thread-safe; one writer.
public final class StandardOutput: TextOutputStream {
    private let fd: CInt
    private var buffer: [UInt8] = []

    public init(fd: CInt = 1) {
        self.fd = fd
        buffer.reserveCapacity(1 << 16)
    }

    deinit { flush() }

    public func write(_ string: String) {
        buffer.append(contentsOf: string.utf8)
        if buffer.count >= 1 << 16 { flush() }
    }

    private func systemWrite(_ fd: CInt, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
        #if canImport(Glibc)
        Glibc.write(fd, bytes, count)
        #else
        Darwin.write(fd, bytes, count)
        #endif
    }

    public func flush() {
        var written = 0
        while written < buffer.count {
            let result = buffer.withUnsafeBytes { raw in
                raw.baseAddress.map { systemWrite(fd, $0 + written, raw.count - written) } ?? 0
            }
            if result <= 0 {
                if result < 0 && errno == EINTR { continue }
                break
            }
            written += result
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
