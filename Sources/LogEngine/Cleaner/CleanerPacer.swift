/// Paces one cleaner thread so that produce and fetch keep their throughput while it cleans, without letting it
/// starve or fall behind the logs it cleans.
///
/// The cleaner reports its I/O (`account`, read plus written bytes, after each batch and each write). Every
/// `sliceNs` of wall-clock time spent cleaning, the pacer looks at the log engine's `LogActivity`:
/// - **idle foreground** (appended plus read bytes since the last look, at a rate under `idleBytesPerSecond`): the
///   cleaner goes on at full speed;
/// - **busy foreground**: the cleaner sleeps long enough that it works at most `busyShare` of the wall-clock time
///   (a slice of `w` ns is followed by a pause of `w · (1 − busyShare) / busyShare`, less the part of the slice
///   the keep-up credit covers), so the foreground gets the
///   cores, the memory bandwidth and the disk for the rest; it never stops, so it always progresses at that share
///   at least;
/// - **keep-up credit**: every byte appended to a compacted log gives the cleaner `keepUpIoPerCompactedByte` bytes
///   of I/O it may do without pausing even when the foreground is busy (a round reads each dirty byte about twice
///   and the clean part of the log once, and writes the survivors), so a producer saturating compacted topics does
///   not outrun their cleaning: the more they are written, the less the cleaner yields.
/// `log.cleaner.io.max.bytes.per.second` (`CleanerIoThrottle`) stays an upper bound on top of this.
///
/// Thread-safety: one cleaner thread uses a pacer (its state is unsynchronised); `LogActivity` is read lock-free.
public final class CleanerPacer: @unchecked Sendable {
    /// How the pacer yields.
    public struct Settings: Sendable, Equatable {
        /// Share of wall-clock time the cleaner works while the foreground is busy; 1 turns pacing off. In (0, 1].
        public var busyShare: Double
        /// Cleaning time between two looks at the foreground (ns).
        public var sliceNs: Int64
        /// Foreground traffic (appended plus read bytes per second) under which the broker counts as idle.
        public var idleBytesPerSecond: Double
        /// Cleaner I/O bytes allowed without pausing per byte appended to a compacted log.
        public var keepUpIoPerCompactedByte: Double
        /// The most keep-up credit kept (bytes of cleaner I/O).
        public var maxCreditBytes: Double
        /// The longest single pause (ns), so a slice stretched by a slow fsync does not stall the cleaner for long.
        public var maxPauseNs: Int64

        public init(
            busyShare: Double = 0.2, sliceNs: Int64 = 10_000_000, idleBytesPerSecond: Double = 1_048_576,
            keepUpIoPerCompactedByte: Double = 3, maxCreditBytes: Double = 1_073_741_824,
            maxPauseNs: Int64 = 1_000_000_000
        ) {
            self.busyShare = busyShare
            self.sliceNs = sliceNs
            self.idleBytesPerSecond = idleBytesPerSecond
            self.keepUpIoPerCompactedByte = keepUpIoPerCompactedByte
            self.maxCreditBytes = maxCreditBytes
            self.maxPauseNs = maxPauseNs
        }

        /// Whether the values are usable (`busyShare` in (0, 1], positive slice, non-negative rest).
        public var isValid: Bool {
            busyShare > 0 && busyShare <= 1 && sliceNs > 0 && idleBytesPerSecond >= 0
                && keepUpIoPerCompactedByte >= 0 && maxCreditBytes >= 0 && maxPauseNs >= 0
        }
    }

    /// What the pacer did, since it was made.
    public struct Totals: Sendable, Equatable {
        /// Nanoseconds the cleaner slept to yield to the foreground.
        public var pausedNs: Int64 = 0
        /// Slices after which the foreground was idle (no pause).
        public var idleSlices = 0
        /// Slices after which the foreground was busy and the cleaner paused.
        public var pausedSlices = 0
        /// Slices after which the foreground was busy but keep-up credit let the cleaner go on.
        public var creditedSlices = 0
    }

    public let settings: Settings
    let activity: LogActivity?
    let clock: CleanerClock
    private var sliceStartNs: Int64?
    private var sliceBytes = 0
    private var lastLook = LogActivity.Snapshot()
    private var lastLookNs: Int64 = 0
    private var creditBytes = 0.0
    /// Totals so far.
    public private(set) var totals = Totals()

    /// A pacer sampling `activity`; nil `activity` (or `busyShare` 1) never pauses.
    public init(settings: Settings = Settings(), activity: LogActivity?, clock: CleanerClock = .system) {
        self.settings = settings.isValid ? settings : Settings()
        self.activity = activity
        self.clock = clock
        if let activity {
            lastLook = activity.snapshot
            lastLookNs = clock.nowNs()
        }
    }

    /// The keep-up credit left (bytes of cleaner I/O).
    public var credit: Double { creditBytes }

    private var isPacing: Bool { activity != nil && settings.busyShare < 1 }

    /// Starts a slice: called when a round begins, so waiting between rounds is not counted as cleaning time.
    /// Compacted appends since the last look are credited.
    public func beginWork() {
        guard isPacing, let activity else { return }
        let now = clock.nowNs()
        look(activity.snapshot, at: now)
        sliceStartNs = now
        sliceBytes = 0
    }

    /// Counts `bytes` of cleaner I/O; at the end of a slice, pauses when the foreground is busy and no keep-up
    /// credit is left. Returns the nanoseconds paused.
    @discardableResult
    public func account(_ bytes: Int) -> Int64 {
        guard isPacing, let activity else { return 0 }
        let now = clock.nowNs()
        guard let start = sliceStartNs else {
            beginWork()
            sliceBytes = max(bytes, 0)
            return 0
        }
        sliceBytes = sliceBytes.addingReportingOverflow(max(bytes, 0)).overflow ? Int.max : sliceBytes + max(bytes, 0)
        let worked = now &- start
        guard worked >= settings.sliceNs else { return 0 }
        let windowNs = max(now &- lastLookNs, 1)
        let current = activity.snapshot
        let foreground = current.foregroundBytes(since: lastLook)
        look(current, at: now)
        var paused: Int64 = 0
        if Double(foreground) * 1e9 / Double(windowNs) < settings.idleBytesPerSecond {
            totals.idleSlices += 1
        } else if creditBytes >= Double(sliceBytes) {
            creditBytes -= Double(sliceBytes)
            totals.creditedSlices += 1
        } else {
            // The part of the slice the credit does not cover is paced.
            let uncovered = (Double(sliceBytes) - creditBytes) / Double(max(sliceBytes, 1))
            creditBytes = 0
            let share = settings.busyShare
            let pause = (Double(worked) * uncovered * (1 - share) / share).rounded()
            paused = min(Int64(min(pause, 9e18)), settings.maxPauseNs)
            clock.sleepNs(paused)
            totals.pausedNs = totals.pausedNs.addingReportingOverflow(paused).partialValue
            totals.pausedSlices += 1
        }
        sliceStartNs = clock.nowNs()
        sliceBytes = 0
        return paused
    }

    /// Takes `current` as the last look, crediting the compacted appends since the previous one.
    private func look(_ current: LogActivity.Snapshot, at now: Int64) {
        let appended = Double(current.compactedBytes(since: lastLook))
        creditBytes = min(creditBytes + appended * settings.keepUpIoPerCompactedByte, settings.maxCreditBytes)
        lastLook = current
        lastLookNs = now
    }
}
