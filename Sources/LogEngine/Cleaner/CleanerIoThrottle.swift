/// The upper bound on the cleaner's I/O, `log.cleaner.io.max.bytes.per.second` (Kafka's `Throttler` as its
/// `LogCleaner` uses it): read plus written bytes of all cleaner threads together are counted over periods of at
/// least `checkIntervalNs`; at the end of a period whose rate exceeded the limit, the thread that closes it sleeps
/// until the period's bytes fit the limit. An infinite (or absurdly high) limit never sleeps.
///
/// Thread-safety: one instance is shared by every cleaner thread; `account` serialises them under a lock (the
/// sleeping thread holds it, as in Kafka, so the others wait for the same period).
public final class CleanerIoThrottle: @unchecked Sendable {
    /// Bytes per second; values of 1e15 or more mean unlimited (Kafka's default is `Double.MaxValue`).
    public let maxBytesPerSecond: Double
    /// Kafka's cleaner checks its rate every 300 ms.
    public static let checkIntervalNs: Int64 = 300_000_000
    private let clock: CleanerClock
    private let lock = Lock()
    private var periodStartNs: Int64?
    private var observedBytes = 0.0

    public init(maxBytesPerSecond: Double, clock: CleanerClock = .system) {
        self.maxBytesPerSecond = maxBytesPerSecond
        self.clock = clock
    }

    /// Whether the limit can ever make a thread sleep.
    public var isLimited: Bool { maxBytesPerSecond.isFinite && maxBytesPerSecond > 0 && maxBytesPerSecond < 1e15 }

    /// Counts `bytes` of cleaner I/O, sleeping when the current period went over the limit. Returns the
    /// nanoseconds slept.
    @discardableResult
    public func account(_ bytes: Int) -> Int64 {
        guard isLimited, bytes > 0 else { return 0 }
        return lock.withLock {
            let now = clock.nowNs()
            guard let start = periodStartNs else {
                periodStartNs = now
                observedBytes = Double(bytes)
                return 0
            }
            observedBytes += Double(bytes)
            let elapsed = now &- start
            guard elapsed > Self.checkIntervalNs else { return 0 }
            var slept: Int64 = 0
            let wantedNs = observedBytes / maxBytesPerSecond * 1e9
            if wantedNs > Double(elapsed) {
                slept = Int64(min(wantedNs - Double(elapsed), 60e9))
                clock.sleepNs(slept)
            }
            periodStartNs = clock.nowNs()
            observedBytes = 0
            return slept
        }
    }
}
