import LogEngine
import NIOConcurrencyHelpers
import NIOCore

/// Parks fetch requests that lack `min.bytes` until an append to one of their partitions or their deadline.
///
/// No polling and no timer per partition: a parked fetch registers one waiter under each of its partitions and
/// one scheduled task for its deadline; `notify` wakes every waiter of a partition. A waiter's deadline timer is
/// cancelled when it wakes, and cancelling the waiting task (its connection closed) wakes it at once, so nothing
/// of a fetch outlives its connection. Thread-safe.
public final class FetchWaiters: Sendable {
    private final class Waiter: Sendable {
        let continuation = NIOLockedValueBox<CheckedContinuation<Void, Never>?>(nil)
        let timer = NIOLockedValueBox<Scheduled<Void>?>(nil)
        let fired = NIOLockedValueBox(false)

        func fire() {
            let timer = fired.withLockedValue { fired -> Scheduled<Void>? in
                fired = true
                return self.timer.withLockedValue { timer in
                    defer { timer = nil }
                    return timer
                }
            }
            timer?.cancel()
            continuation.withLockedValue { continuation in
                continuation?.resume()
                continuation = nil
            }
        }

        /// Keeps the deadline timer so that waking cancels it; cancels it at once when already woken.
        func arm(_ scheduled: Scheduled<Void>) {
            let alreadyFired = fired.withLockedValue { fired in
                if !fired { timer.withLockedValue { $0 = scheduled } }
                return fired
            }
            if alreadyFired { scheduled.cancel() }
        }
    }

    private let waiters = NIOLockedValueBox<[TopicPartition: [ObjectIdentifier: Waiter]]>([:])
    private let timers: EventLoopGroup

    /// A log this object listens to, held weakly (a deleted partition's log goes away).
    private struct WatchedLog {
        weak var log: PartitionLog?
    }

    /// The logs whose appends notify this object, by identity.
    private let watchedLogs = NIOLockedValueBox<[ObjectIdentifier: WatchedLog]>([:])

    public init(timers: EventLoopGroup) {
        self.timers = timers
    }

    /// How many fetches are parked now (for tests and metrics).
    public var parkedCount: Int {
        waiters.withLockedValue { all in Set(all.values.flatMap(\.keys)).count }
    }

    /// Waits until `notify` is called for one of `partitions`, `timeout` passes or the task is cancelled.
    /// `stillWaiting` is checked after registration, so an append that raced with the caller's last read is
    /// never missed.
    public func wait(for partitions: [TopicPartition], timeout: TimeAmount, stillWaiting: @Sendable () -> Bool) async {
        let waiter = Waiter()
        let key = ObjectIdentifier(waiter)
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                waiter.continuation.withLockedValue { $0 = continuation }
                waiters.withLockedValue { all in
                    for partition in partitions { all[partition, default: [:]][key] = waiter }
                }
                guard stillWaiting(), !Task.isCancelled else {
                    waiter.fire()
                    return
                }
                waiter.arm(timers.next().scheduleTask(in: timeout) { waiter.fire() })
            }
        } onCancel: {
            waiter.fire()
        }
        waiters.withLockedValue { all in
            for partition in partitions {
                all[partition]?.removeValue(forKey: key)
                if all[partition]?.isEmpty == true { all.removeValue(forKey: partition) }
            }
        }
    }

    /// Makes every append to `log`, whoever writes it (produce, the group coordinator, later transaction markers
    /// and replica fetchers), wake the fetches parked on `partition`: the one notification path for offset
    /// advances. Registers an append listener once per log.
    public func watch(_ log: PartitionLog, as partition: TopicPartition) {
        let id = ObjectIdentifier(log)
        let register = watchedLogs.withLockedValue { logs -> Bool in
            if let existing = logs[id], existing.log === log { return false }
            if logs.count >= 1024 { logs = logs.filter { $0.value.log != nil } }
            logs[id] = WatchedLog(log: log)
            return true
        }
        guard register else { return }
        log.addAppendListener { [weak self] _ in self?.notify(partition) }
    }

    /// Wakes every fetch parked on `partition`.
    public func notify(_ partition: TopicPartition) {
        let parked = waiters.withLockedValue { $0[partition].map { Array($0.values) } }
        parked?.forEach { $0.fire() }
    }
}
