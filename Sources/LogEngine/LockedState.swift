/// A value and the lock that owns it (the locked-box pattern): the value is reachable only inside `withLock`, so
/// no code can read or write it without holding the lock.
///
/// Thread-safety: all methods may be called from any thread. The lock is not recursive: `body` must not call
/// `withLock` on the same box.
final class LockedState<Value>: @unchecked Sendable {
    private let lock = Lock()
    private var value: Value

    init(_ value: Value) {
        self.value = value
    }

    @inline(__always)
    func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        try lock.withLock { try body(&value) }
    }
}
