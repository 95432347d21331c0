import LogEngine
import NIOConcurrencyHelpers
import NIOCore

/// Parks fetch requests that lack `min.bytes` until an append to one of their partitions or their deadline.
///
/// No polling and no timer per partition: a parked fetch registers one waiter under each of its partitions and
/// one scheduled task for its deadline; `notify` wakes every waiter of a partition. Thread-safe.
public final class FetchWaiters: Sendable {
    private final class Waiter: Sendable {
        let continuation = NIOLockedValueBox<CheckedContinuation<Void, Never>?>(nil)

        func fire() {
            continuation.withLockedValue { continuation in
                continuation?.resume()
                continuation = nil
            }
        }
    }

    private let waiters = NIOLockedValueBox<[TopicPartition: [ObjectIdentifier: Waiter]]>([:])
    private let timers: EventLoopGroup

    public init(timers: EventLoopGroup) {
        self.timers = timers
    }

    /// Waits until `notify` is called for one of `partitions`, or `timeout` passes. `stillWaiting` is checked
    /// after registration, so an append that raced with the caller's last read is never missed.
    public func wait(for partitions: [TopicPartition], timeout: TimeAmount, stillWaiting: @Sendable () -> Bool) async {
        let waiter = Waiter()
        let key = ObjectIdentifier(waiter)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            waiter.continuation.withLockedValue { $0 = continuation }
            waiters.withLockedValue { all in
                for partition in partitions { all[partition, default: [:]][key] = waiter }
            }
            guard stillWaiting() else {
                waiter.fire()
                return
            }
            let timer = timers.next().scheduleTask(in: timeout) { waiter.fire() }
            _ = timer
        }
        waiters.withLockedValue { all in
            for partition in partitions {
                all[partition]?.removeValue(forKey: key)
                if all[partition]?.isEmpty == true { all.removeValue(forKey: partition) }
            }
        }
    }

    /// Wakes every fetch parked on `partition`.
    public func notify(_ partition: TopicPartition) {
        let parked = waiters.withLockedValue { $0[partition].map { Array($0.values) } }
        parked?.forEach { $0.fire() }
    }
}
