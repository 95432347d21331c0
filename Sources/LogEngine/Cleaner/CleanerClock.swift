#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The monotonic time and the sleep the cleaner's pacing uses (`CleanerPacer`, `CleanerIoThrottle`); injectable so
/// tests can run the pacing on a clock they move by hand.
///
/// Thread-safety: `Sendable`; both functions may be called from any thread.
public struct CleanerClock: Sendable {
    /// Nanoseconds on a monotonic clock.
    public let nowNs: @Sendable () -> Int64
    /// Sleeps the calling thread for the given nanoseconds.
    public let sleepNs: @Sendable (Int64) -> Void

    public init(nowNs: @escaping @Sendable () -> Int64, sleepNs: @escaping @Sendable (Int64) -> Void) {
        self.nowNs = nowNs
        self.sleepNs = sleepNs
    }

    /// `CLOCK_MONOTONIC` and `nanosleep`.
    public static let system = CleanerClock(
        nowNs: {
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            return Int64(now.tv_sec) &* 1_000_000_000 &+ Int64(now.tv_nsec)
        },
        sleepNs: { nanoseconds in
            guard nanoseconds > 0 else { return }
            var request = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
            var remaining = timespec()
            while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
        })
}
