#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file mapped read-only (`MAP_PRIVATE`, `PROT_READ`): the verifier and the dump read segment and
/// index files through it and never write to them.
///
/// Thread-safety: immutable after creation; `bytes` may be read from any thread while the value is alive.
final class MappedFile: @unchecked Sendable {
    let path: String
    let bytes: UnsafeRawBufferPointer
    private let base: UnsafeMutableRawPointer?

    /// Maps `path`. Throws `VerifyError.io` when the file cannot be opened, sized or mapped.
    init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw MappedFile.error("open", path) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw MappedFile.error("fstat", path) }
        let size = Int(info.st_size)
        if size == 0 {
            base = nil
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let address, address != MAP_FAILED else { throw MappedFile.error("mmap", path) }
        base = address
        bytes = UnsafeRawBufferPointer(start: address, count: size)
    }

    deinit {
        if let base { munmap(base, bytes.count) }
    }

    static func error(_ call: String, _ path: String) -> VerifyError {
        VerifyError(.io, "\(call) failed: \(String(cString: strerror(errno)))", context: path)
    }
}
