import Atomics

/// What the log engine's foreground work has done so far: bytes appended (all of them, and those appended to
/// compacted logs) and bytes handed to readers (fetches). The log cleaner samples it to yield to produce and fetch
/// traffic (`CleanerPacer`) and to keep up with the rate compacted logs are dirtied.
///
/// One instance per `LogManager`, shared by its logs. The counters only grow (wrapping on overflow, so readers
/// compare them with wrapping subtraction). Thread-safety: lock-free; every method may be called from any thread.
public final class LogActivity: @unchecked Sendable {
    /// The counters at one moment.
    public struct Snapshot: Sendable, Equatable {
        /// Bytes appended to any log.
        public var appendedBytes: Int
        /// Bytes appended to logs with `cleanup.policy` including `compact`.
        public var compactedAppendedBytes: Int
        /// Bytes returned by reads (fetches).
        public var readBytes: Int

        public init(appendedBytes: Int = 0, compactedAppendedBytes: Int = 0, readBytes: Int = 0) {
            self.appendedBytes = appendedBytes
            self.compactedAppendedBytes = compactedAppendedBytes
            self.readBytes = readBytes
        }

        /// Foreground bytes (appended plus read) since `earlier`.
        public func foregroundBytes(since earlier: Snapshot) -> Int {
            max(0, (appendedBytes &- earlier.appendedBytes)) &+ max(0, (readBytes &- earlier.readBytes))
        }

        /// Bytes appended to compacted logs since `earlier`.
        public func compactedBytes(since earlier: Snapshot) -> Int {
            max(0, compactedAppendedBytes &- earlier.compactedAppendedBytes)
        }
    }

    private let appended = ManagedAtomic<Int>(0)
    private let compactedAppended = ManagedAtomic<Int>(0)
    private let read = ManagedAtomic<Int>(0)

    public init() {}

    /// Counts `bytes` appended to a log (`compacted`: a log the cleaner compacts).
    public func recordAppend(bytes: Int, compacted: Bool) {
        guard bytes > 0 else { return }
        appended.wrappingIncrement(by: bytes, ordering: .relaxed)
        if compacted { compactedAppended.wrappingIncrement(by: bytes, ordering: .relaxed) }
    }

    /// Counts `bytes` handed to a reader.
    public func recordRead(bytes: Int) {
        guard bytes > 0 else { return }
        read.wrappingIncrement(by: bytes, ordering: .relaxed)
    }

    /// The counters now.
    public var snapshot: Snapshot {
        Snapshot(
            appendedBytes: appended.load(ordering: .relaxed),
            compactedAppendedBytes: compactedAppended.load(ordering: .relaxed),
            readBytes: read.load(ordering: .relaxed))
    }
}
