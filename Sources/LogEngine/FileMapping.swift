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

    /// Maps the first `length` bytes of `fd`. `randomAccess`: a page fault reads only the page it needs
    /// (`MADV_RANDOM`) instead of the device's read-ahead window around it, which for an index file that is
    /// mostly a preallocated hole would fill megabytes of page cache with zeros at every new page touched.
    init(fd: CInt, length: Int, writable: Bool, randomAccess: Bool = false, path: String) throws {
        self.length = length
        guard length > 0 else {
            base = nil
            return
        }
        let protection = writable ? (PROT_READ | PROT_WRITE) : PROT_READ
        let address = mmap(nil, length, protection, MAP_SHARED, fd, 0)
        if address == MAP_FAILED || address == nil { throw FileSystem.error("mmap", path) }
        base = address
        // Advice only: when refused, faults read ahead as usual.
        if randomAccess, let address { _ = madvise(address, length, MADV_RANDOM) }
    }

    deinit {
        if let base { munmap(base, length) }
    }

    /// The first `count` bytes (clamped to the mapping length).
    func bytes(count: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base, count: base == nil ? 0 : min(count, length))
    }

    /// Drops this process's page-table entries for the pages around `range` (in 64 KiB blocks, the kernel's
    /// fault-around unit), so header scans do not leave read pages counted in the broker's resident set. The
    /// data stays in the page cache; a later access maps it again. Safe while other threads read the range.
    func releaseResidentPages(around range: Range<Int>) {
        guard let base, !range.isEmpty else { return }
        let block = 64 << 10
        let start = range.lowerBound / block * block
        let end = min((range.upperBound + block - 1) / block * block, length)
        guard end > start else { return }
        _ = madvise(base + start, end - start, MADV_DONTNEED)
    }

    var mutableBytes: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: base, count: base == nil ? 0 : length)
    }
}
