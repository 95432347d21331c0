#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A shared memory mapping of a file region, unmapped when the last reference goes away.
///
/// The mapping may be larger than the file (address space reserved for growth); callers only touch bytes below
/// the file's current size. Thread-safety: immutable; concurrent reads are safe, writes need external ordering.
final class FileMapping: @unchecked Sendable {
    let base: UnsafeMutableRawPointer?
    let length: Int

    init(fd: CInt, length: Int, writable: Bool, path: String) throws {
        self.length = length
        guard length > 0 else {
            base = nil
            return
        }
        let protection = writable ? (PROT_READ | PROT_WRITE) : PROT_READ
        let address = mmap(nil, length, protection, MAP_SHARED, fd, 0)
        if address == MAP_FAILED || address == nil { throw FileSystem.error("mmap", path) }
        base = address
    }

    deinit {
        if let base { munmap(base, length) }
    }

    /// The first `count` bytes (clamped to the mapping length).
    func bytes(count: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base, count: base == nil ? 0 : min(count, length))
    }

    var mutableBytes: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: base, count: base == nil ? 0 : length)
    }
}
