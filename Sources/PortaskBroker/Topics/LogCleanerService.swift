import Dispatch
import Foundation
import LogEngine
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// The broker's log cleaner threads (Kafka's `LogCleaner`): `log.cleaner.threads` loops, each on its own
/// dedicated thread (off the event loops and off the cooperative pool, since a round reads and writes whole
/// segments), each cleaning the filthiest compacted log (`LogManager.cleanFilthiestLog`) and sleeping
/// `log.cleaner.backoff.ms` when none needs cleaning. The threads run at the normal scheduling priority: what
/// protects produce and fetch is the pacing by the log engine's activity (`CleanerPacer`): while produce or fetch
/// traffic flows, a thread works at most a fifth of the wall-clock time (more when compacted topics are written
/// fast, to keep up with them), so produce and fetch keep their throughput while a round runs, and an idle broker
/// cleans at full speed. (A lowered priority would starve the cleaner exactly when compacted topics are written
/// fastest, and Linux does not let a thread raise its priority back without CAP_SYS_NICE.)
/// `log.cleaner.io.max.bytes.per.second` bounds all threads together (one shared `CleanerIoThrottle`, as in
/// Kafka). Each thread owns a `LogCleaner` whose offset map gets `log.cleaner.dedupe.buffer.size /
/// log.cleaner.threads` bytes at most.
///
/// A `Service` of the broker's `ServiceGroup`: with `log.cleaner.enable=false` (or 0 threads) it only waits for
/// shutdown. At graceful shutdown a round in progress is abandoned at its next segment (its `.cleaned` file is
/// removed) and the service returns. Thread-safe.
struct LogCleanerService: Service {
    let logs: LogManager
    let enabled: Bool
    let threads: Int
    let backoffMs: Int64
    let cleanerConfig: LogCleaner.Config
    let ioThrottle: CleanerIoThrottle
    let logger: Logger

    init(logs: LogManager, config: BrokerConfig, logger: Logger) {
        self.logs = logs
        enabled = config.logCleanerEnable
        threads = max(0, min(config.logCleanerThreads, 64))
        backoffMs = max(config.logCleanerBackoffMs, 1)
        let perThread = config.logCleanerDedupeBufferSize / Int64(max(threads, 1))
        cleanerConfig = LogCleaner.Config(
            dedupeBufferBytes: Int(clamping: min(perThread, Int64(Int32.max))),
            loadFactor: config.logCleanerIoBufferLoadFactor,
            maxIoBytesPerSecond: config.logCleanerIoMaxBytesPerSecond)
        ioThrottle = CleanerIoThrottle(maxBytesPerSecond: config.logCleanerIoMaxBytesPerSecond)
        self.logger = logger
    }

    func run() async throws {
        guard enabled, threads > 0 else {
            try? await gracefulShutdown()
            return
        }
        try? await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                for index in 0..<threads {
                    group.addTask { await self.loop(index) }
                }
            }
        }
    }

    /// One cleaner thread until cancellation.
    private func loop(_ index: Int) async {
        let cleaner = LogCleaner(config: cleanerConfig, activity: logs.activity, ioThrottle: ioThrottle)
        let wake = DispatchSemaphore(value: 0)
        let stopped = NIOLockedValueBox(false)
        let backoff = DispatchTimeInterval.milliseconds(Int(clamping: backoffMs))
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let thread = Thread {
                    while !stopped.withLockedValue({ $0 }) {
                        if self.cleanOnce(cleaner) { continue }
                        _ = wake.wait(timeout: .now() + backoff)
                    }
                    continuation.resume()
                }
                thread.name = "portask-log-cleaner-\(index)"
                thread.start()
            }
        } onCancel: {
            stopped.withLockedValue { $0 = true }
            cleaner.requestStop()
            wake.signal()
        }
    }

    /// One round; true when a log was cleaned (the thread looks for the next one at once).
    private func cleanOnce(_ cleaner: LogCleaner) -> Bool {
        do {
            guard let round = try logs.cleanFilthiestLog(with: cleaner) else { return false }
            let stats = round.stats
            logger.info("cleaned log", metadata: [
                "partition": "\(round.partition)", "fromOffset": "\(round.firstDirtyOffset)",
                "toOffset": "\(round.endOffset)", "dirtyRatio": "\(round.dirtyRatio)",
                "bytesRead": "\(stats.bytesRead)", "bytesWritten": "\(stats.bytesWritten)",
                "recordsRead": "\(stats.recordsRead)", "recordsKept": "\(stats.recordsRetained)",
                "mapFull": "\(stats.mapFull)", "mapBytes": "\(stats.mapBytes)", "newestFirst": "\(stats.newestFirst)",
                "groups": "\(stats.groups)", "ms": "\(stats.elapsedMs)",
                "pausedMs": "\(stats.pausedMs)", "throttledMs": "\(stats.throttledMs)",
            ])
            return true
        } catch {
            logger.error("log cleaning failed; the partition is skipped until restart", metadata: ["error": "\(error)"])
            return true
        }
    }
}
