import LogEngine
import Logging
import ServiceLifecycle

/// The broker's periodic log housekeeping, as Kafka's log manager schedules it:
/// `flush.ms` flushes every `log.flush.scheduler.interval.ms` (1 s here); retention (`retention.ms`,
/// `retention.bytes`, records below the log start offset), producer-state expiry and snapshots every
/// `log.retention.check.interval.ms`; and the recovery-point and log-start checkpoints every
/// `log.flush.offset.checkpoint.interval.ms` (60 s).
///
/// A `Service` of the broker's `ServiceGroup`: runs until graceful shutdown (or cancellation); the work happens
/// off the event loops. Thread-safe.
struct LogMaintenance: Service {
    let logs: LogManager
    let retentionCheckIntervalMs: Int64
    let logger: Logger
    var flushCheckIntervalMs: Int64 = 1_000
    var checkpointIntervalMs: Int64 = 60_000

    /// Runs until graceful shutdown or cancellation.
    func run() async throws {
        try? await cancelWhenGracefulShutdown { await self.loop() }
    }

    /// Loops until the surrounding task is cancelled.
    func loop() async {
        let tick = max(min(flushCheckIntervalMs, retentionCheckIntervalMs), 10)
        var sinceRetention: Int64 = 0
        var sinceCheckpoint: Int64 = 0
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: .milliseconds(tick))
            } catch {
                return
            }
            sinceRetention += tick
            sinceCheckpoint += tick
            for (partition, log) in logs.allLogs {
                do {
                    try log.flushIfDue()
                } catch {
                    logger.error("flush failed", metadata: ["partition": "\(partition)", "error": "\(error)"])
                }
            }
            if sinceRetention >= retentionCheckIntervalMs {
                sinceRetention = 0
                runRetention()
            }
            if sinceCheckpoint >= checkpointIntervalMs {
                sinceCheckpoint = 0
                do {
                    try logs.checkpoint()
                } catch {
                    logger.error("checkpoint failed", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    /// Retention, producer-state expiry and snapshots, and checkpoints (`LogManager.runMaintenance`).
    private func runRetention() {
        do {
            let deleted = try logs.runMaintenance()
            if deleted > 0 { logger.info("deleted old segments", metadata: ["segments": "\(deleted)"]) }
        } catch {
            logger.error("log maintenance failed", metadata: ["error": "\(error)"])
        }
    }
}
