import Foundation
import NIOCore
import Testing
@testable import LogEngine

/// Pacing of the log cleaner on a hand-moved clock: it yields to produce and fetch traffic (a bounded share of the
/// time), never starves, keeps up with compacted appends, runs at full speed when the broker is idle, and
/// `log.cleaner.io.max.bytes.per.second` bounds it (Kafka's `Throttler`).
struct CleanerPacerTests {
    /// Monotonic time that only moves when the test works (`work`) or the code under test sleeps.
    final class FakeTime: @unchecked Sendable {
        private let lock = NSLock()
        private var now: Int64 = 1_000_000_000
        private(set) var slept: [Int64] = []
        /// Called on every reading of the clock (tests make foreground traffic happen there).
        var onRead: (@Sendable (Int64) -> Void)?

        func work(_ nanoseconds: Int64) { lock.withLock { now += nanoseconds } }
        func read() -> Int64 {
            let value = lock.withLock { now }
            onRead?(value)
            return value
        }
        var totalSlept: Int64 { lock.withLock { slept.reduce(0, +) } }
        var clock: CleanerClock {
            CleanerClock(nowNs: { [self] in read() }, sleepNs: { [self] nanoseconds in
                lock.withLock {
                    slept.append(nanoseconds)
                    now += nanoseconds
                }
            })
        }
    }

    static let ms: Int64 = 1_000_000

    /// Runs a cleaner doing `bytesPerMs` of I/O per millisecond of work for `durationMs` of wall-clock time, with
    /// `foreground(wallNs)` called before each millisecond of work with the wall-clock time passed since its last
    /// call (work and pauses). Returns the cleaner's I/O bytes.
    static func run(
        _ pacer: CleanerPacer, time: FakeTime, durationMs: Int64, bytesPerMs: Int = 1_000_000,
        foreground: (Int64) -> Void
    ) -> Int {
        let start = time.read()
        var last = start
        var done = 0
        pacer.beginWork()
        while time.read() - start < durationMs * ms {
            let now = time.read()
            foreground(now - last)
            last = now
            time.work(ms)
            pacer.account(bytesPerMs)
            done += bytesPerMs
        }
        return done
    }

    @Test func idleBroker_cleanerRunsAtFullSpeed() {
        let time = FakeTime()
        let activity = LogActivity()
        let pacer = CleanerPacer(activity: activity, clock: time.clock)
        let done = Self.run(pacer, time: time, durationMs: 1000) { _ in }
        #expect(time.totalSlept == 0)
        #expect(done == 1000 * 1_000_000)
        #expect(pacer.totals.pausedSlices == 0 && pacer.totals.idleSlices > 0)
    }

    @Test func trickleOfTraffic_countsAsIdle() {
        let time = FakeTime()
        let activity = LogActivity()
        let pacer = CleanerPacer(activity: activity, clock: time.clock)
        // 100 kB/s, under the 1 MiB/s idle threshold.
        _ = Self.run(pacer, time: time, durationMs: 1000) { wallNs in
            activity.recordAppend(bytes: Int(wallNs / 10_000), compacted: false)
        }
        #expect(time.totalSlept == 0)
    }

    @Test func busyForeground_cleanerYieldsButNeverStarves() {
        let time = FakeTime()
        let activity = LogActivity()
        let settings = CleanerPacer.Settings(busyShare: 0.2)
        let pacer = CleanerPacer(settings: settings, activity: activity, clock: time.clock)
        // A producer appending 100 MB/s to a log that is not compacted.
        let done = Self.run(pacer, time: time, durationMs: 10_000) { wallNs in
            activity.recordAppend(bytes: Int(wallNs / 10), compacted: false)
        }
        let fullSpeed = 10_000 * 1_000_000
        let share = Double(done) / Double(fullSpeed)
        // It works a fifth of the time: it yields four fifths to the foreground, and still progresses.
        #expect(share > 0.18 && share <= 0.21, "share \(share)")
        #expect(pacer.totals.pausedSlices > 100)
        // Each pause is four times the slice before it (10 ms of work, 40 ms of pause).
        #expect(time.slept.allSatisfy { abs($0 - 40 * Self.ms) <= 1000 })
    }

    @Test func foregroundStops_cleanerReturnsToFullSpeed() {
        let time = FakeTime()
        let activity = LogActivity()
        let pacer = CleanerPacer(activity: activity, clock: time.clock)
        var workAfterStop = 0
        let start = time.read()
        pacer.beginWork()
        while time.read() - start < 2000 * Self.ms {
            let elapsedMs = (time.read() - start) / Self.ms
            if elapsedMs < 1000 { activity.recordAppend(bytes: 100_000, compacted: false) }
            time.work(Self.ms)
            pacer.account(1_000_000)
            if elapsedMs >= 1100 { workAfterStop += 1 }
        }
        // From shortly after the traffic stopped, every millisecond is cleaning again.
        #expect(workAfterStop == 900)
    }

    @Test func compactedAppends_giveKeepUpCredit_soTheCleanerKeepsUp() {
        let time = FakeTime()
        let activity = LogActivity()
        let pacer = CleanerPacer(settings: .init(busyShare: 0.2, keepUpIoPerCompactedByte: 3), activity: activity,
                                 clock: time.clock)
        // A producer writing 300 MB/s into compacted topics; the cleaner could do 1 GB/s of I/O at full speed.
        var appended = 0
        let done = Self.run(pacer, time: time, durationMs: 10_000) { wallNs in
            let bytes = Int(wallNs * 300 / 1000)
            activity.recordAppend(bytes: bytes, compacted: true)
            appended += bytes
        }
        // It is allowed three bytes of I/O per byte appended (less than its full speed here): it keeps up with the
        // producer instead of working a fifth of the time.
        let ioPerAppended = Double(done) / Double(appended)
        #expect(ioPerAppended >= 2.9, "I/O per appended byte \(ioPerAppended)")
        #expect(pacer.totals.creditedSlices > 0)
        // A producer faster than the cleaner: it never pauses at all.
        let fastTime = FakeTime()
        let fastPacer = CleanerPacer(activity: activity, clock: fastTime.clock)
        let fastDone = Self.run(fastPacer, time: fastTime, durationMs: 1000) { wallNs in
            activity.recordAppend(bytes: Int(wallNs / 2), compacted: true)
        }
        #expect(fastTime.totalSlept == 0)
        #expect(fastDone == 1000 * 1_000_000)
    }

    @Test func withoutActivity_orAtFullShare_thePacerNeverPauses() {
        let time = FakeTime()
        let busy = LogActivity()
        for pacer in [CleanerPacer(activity: nil, clock: time.clock),
                      CleanerPacer(settings: .init(busyShare: 1), activity: busy, clock: time.clock)]
        {
            _ = Self.run(pacer, time: time, durationMs: 500) { _ in busy.recordAppend(bytes: 1 << 20, compacted: false) }
        }
        #expect(time.totalSlept == 0)
        // Unusable settings fall back to the defaults rather than dividing by zero.
        #expect(CleanerPacer(settings: .init(busyShare: 0), activity: busy).settings == CleanerPacer.Settings())
    }

    @Test func ioThrottle_boundsTheRate_asKafkasThrottler() {
        let time = FakeTime()
        let throttle = CleanerIoThrottle(maxBytesPerSecond: 10_000_000, clock: time.clock)
        let start = time.read()
        var bytes = 0
        // A cleaner able to do 1 GB/s, limited to 10 MB/s.
        while time.read() - start < 5_000 * Self.ms {
            time.work(Self.ms)
            throttle.account(1_000_000)
            bytes += 1_000_000
        }
        let rate = Double(bytes) / (Double(time.read() - start) / 1e9)
        #expect(rate <= 10_000_000 * 1.1 && rate >= 10_000_000 * 0.8, "rate \(rate)")
        // The default (Double.greatestFiniteMagnitude) never sleeps.
        let unlimited = CleanerIoThrottle(maxBytesPerSecond: .greatestFiniteMagnitude, clock: time.clock)
        #expect(!unlimited.isLimited && unlimited.account(1 << 30) == 0)
    }

    @Test func logManager_countsAppendsAndReads_forTheCleaner() throws {
        let directory = TemporaryDirectory()
        let manager = try LogManager(directory: directory.path, defaultConfig: LogCleanerTests.compactConfig())
        let compacted = try manager.createLog(for: TopicPartition("compacted", 0))
        var plain = LogCleanerTests.compactConfig()
        plain.compact = false
        let other = try manager.createLog(for: TopicPartition("plain", 0), config: plain)
        let batch = LogCleanerTests.batch([("k", "v")])
        try compacted.append(batch)
        try other.append(batch)
        try other.append(batch)
        let slice = try #require(try other.read(from: 0, maxBytes: 1 << 20))
        let counted = manager.activity.snapshot
        #expect(counted.compactedAppendedBytes == batch.readableBytes)
        #expect(counted.appendedBytes == 3 * batch.readableBytes)
        #expect(counted.readBytes == slice.length)
    }

    @Test func cleanerRound_yieldsToTraffic_andStillCleansEverything() throws {
        let directory = TemporaryDirectory()
        let manager = try LogManager(directory: directory.path, defaultConfig: LogCleanerTests.compactConfig())
        let log = try manager.createLog(for: TopicPartition("paced", 0))
        try LogCleanerTests.fill(log, keys: 30, rounds: 8)
        let expected = LogCleanerTests.latest(try LogCleanerTests.readAll(log))
        // Every reading of the cleaner's clock: 1 ms passed, during which a producer appended 1 MB elsewhere.
        let activity = manager.activity
        let busyTime = FakeTime()
        busyTime.onRead = { _ in
            busyTime.work(Self.ms)
            activity.recordAppend(bytes: 1_000_000, compacted: false)
        }
        let settings = CleanerPacer.Settings(busyShare: 0.25, sliceNs: 5 * Self.ms)
        let cleaner = LogCleaner(
            config: .init(pacing: settings), activity: activity, pacingClock: busyTime.clock)
        let rounds = try LogCleanerTests.cleanAll(manager, cleaner: cleaner)
        #expect(rounds >= 1)
        #expect(LogCleanerTests.latest(try LogCleanerTests.readAll(log)) == expected)
        #expect(try LogCleanerTests.readAll(log).count <= 30 + 1)
        // It paused three times as long as it worked (share 1/4), and reported it.
        #expect(cleaner.pacer.totals.pausedSlices > 0)
        #expect(busyTime.slept.allSatisfy { $0 >= 15 * Self.ms })
        #expect(busyTime.totalSlept == cleaner.pacer.totals.pausedNs)
    }
}
