import Foundation
import NIOCore

/// Schedules the coordinator's timeouts (session expiry, rebalance and initial delays) and tells the time.
/// Injectable so the group state machine can be tested with a manual clock. Implementations are thread-safe.
public protocol GroupTimers: Sendable {
    /// The current time in ms since the epoch.
    func nowMs() -> Int64
    /// Runs `action` once after `delayMs`; the returned handle cancels it.
    func schedule(afterMs delayMs: Int64, _ action: @escaping @Sendable () -> Void) -> GroupTimer
}

/// A scheduled timeout that can be cancelled. Thread-safe.
public struct GroupTimer: Sendable {
    let cancelAction: @Sendable () -> Void

    public init(cancel: @escaping @Sendable () -> Void) {
        cancelAction = cancel
    }

    public func cancel() {
        cancelAction()
    }
}

/// Timers on NIO event loops (`scheduleTask`): no polling, one scheduled task per pending timeout. Thread-safe.
struct EventLoopGroupTimers: GroupTimers {
    let loops: any EventLoopGroup

    func nowMs() -> Int64 {
        Int64(Date().timeIntervalSince1970 * 1000)
    }

    func schedule(afterMs delayMs: Int64, _ action: @escaping @Sendable () -> Void) -> GroupTimer {
        // TimeAmount counts nanoseconds in an Int64: longer delays (from configuration or records) are clamped.
        let delay = min(max(0, delayMs), Int64.max / 1_000_000)
        let task = loops.next().scheduleTask(in: .milliseconds(delay)) { action() }
        return GroupTimer { task.cancel() }
    }
}
