#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Total and usable bytes of the file system holding a path (statvfs), as DescribeLogDirs v4 reports them.
/// Stateless; thread-safe.
public enum DiskSpace {
    /// `(total, usable)` bytes of the file system holding `path`, or `(-1, -1)` when unknown; saturating.
    public static func of(_ path: String) -> (total: Int64, usable: Int64) {
        var stats = statvfs()
        guard statvfs(path, &stats) == 0 else { return (-1, -1) }
        let unit = Int64(clamping: stats.f_frsize)
        func bytes(_ blocks: some BinaryInteger) -> Int64 {
            let (product, overflow) = Int64(clamping: blocks).multipliedReportingOverflow(by: unit)
            return overflow ? Int64.max : product
        }
        return (bytes(stats.f_blocks), bytes(stats.f_bavail))
    }
}
