#if canImport(Glibc)
import Glibc
#endif

/// How many partitions the broker may hold in all.
///
/// Every partition holds descriptors (its active segment and indexes) and connections need theirs, so the
/// default bound is a quarter of the process's open-file limit (`RLIMIT_NOFILE`), never below 1,000; the
/// `max.partitions` property sets it explicitly. Stateless; thread-safe.
enum PartitionBudget {
    static func maximumPartitions(configured: Int) -> Int {
        if configured > 0 { return configured }
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1_000 }
        let descriptors = UInt64(limit.rlim_cur)
        return max(1_000, Int(min(descriptors, UInt64(Int32.max))) / 4)
    }
}
