import Atomics
import NIOCore

/// A connection's quota throttle: a handler that throttles a client sets how long the connection stays muted;
/// the connection stops reading once the response is on its way (Kafka mutes a throttled channel for the
/// throttle time after sending the response, KIP-219), and requests of the connection that were already read
/// wait out the mute before they are served (Kafka reads the next request only after it). Thread-safe (atomics).
public final class ConnectionThrottle: Sendable {
    private let pendingMs = ManagedAtomic<Int32>(0)
    /// Until when (uptime nanoseconds) the connection is muted; 0 when never.
    private let mutedUntil = ManagedAtomic<UInt64>(0)

    public init() {}

    /// Mutes the connection for `milliseconds` from now (the longest mute wins).
    public func mute(forMilliseconds milliseconds: Int32) {
        guard milliseconds > 0 else { return }
        let until = NIODeadline.now().uptimeNanoseconds &+ UInt64(milliseconds) * 1_000_000
        var current = mutedUntil.load(ordering: .relaxed)
        while current < until {
            let (exchanged, original) = mutedUntil.compareExchange(expected: current, desired: until, ordering: .acquiringAndReleasing)
            if exchanged { break }
            current = original
        }
        var pending = pendingMs.load(ordering: .relaxed)
        while pending < milliseconds {
            let (exchanged, original) = pendingMs.compareExchange(expected: pending, desired: milliseconds, ordering: .acquiringAndReleasing)
            if exchanged { return }
            pending = original
        }
    }

    /// Waits until the connection's mute is over (at once when it is not muted).
    public func waitUntilUnmuted() async {
        let until = mutedUntil.load(ordering: .acquiring)
        guard until != 0 else { return }
        let now = NIODeadline.now().uptimeNanoseconds
        guard until > now else { return }
        try? await Task.sleep(nanoseconds: until - now)
    }

    /// The pending mute in milliseconds, cleared (0 when none).
    func take() -> Int32 {
        pendingMs.load(ordering: .relaxed) == 0 ? 0 : pendingMs.exchange(0, ordering: .acquiringAndReleasing)
    }
}
