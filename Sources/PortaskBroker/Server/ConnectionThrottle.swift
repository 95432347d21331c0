import Atomics

/// A connection's pending quota throttle: a handler that throttles a client sets how long the connection stays
/// muted, and the connection takes it once the response is on its way (Kafka mutes a throttled channel for the
/// throttle time after sending the response, KIP-219). Thread-safe (one atomic).
public final class ConnectionThrottle: Sendable {
    private let pendingMs = ManagedAtomic<Int32>(0)

    public init() {}

    /// Asks for the connection to be muted for `milliseconds` (the longest request wins).
    public func mute(forMilliseconds milliseconds: Int32) {
        guard milliseconds > 0 else { return }
        var current = pendingMs.load(ordering: .relaxed)
        while current < milliseconds {
            let (exchanged, original) = pendingMs.compareExchange(expected: current, desired: milliseconds, ordering: .acquiringAndReleasing)
            if exchanged { return }
            current = original
        }
    }

    /// The pending mute in milliseconds, cleared (0 when none).
    func take() -> Int32 {
        pendingMs.load(ordering: .relaxed) == 0 ? 0 : pendingMs.exchange(0, ordering: .acquiringAndReleasing)
    }
}
