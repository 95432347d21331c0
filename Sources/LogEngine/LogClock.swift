#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The wall clock LogEngine reads for LogAppendTime, `segment.ms`, `retention.ms` and `flush.ms`; injectable
/// so tests can move time by hand.
///
/// Thread-safety: `Sendable`; `now` may be called from any thread.
public struct LogClock: Sendable {
    private let read: @Sendable () -> Int64

    /// A clock reading `read` (milliseconds since the Unix epoch).
    public init(_ read: @escaping @Sendable () -> Int64) {
        self.read = read
    }

    /// Milliseconds since the Unix epoch.
    public func nowMs() -> Int64 { read() }

    /// The system's real-time clock.
    public static let system = LogClock {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}
