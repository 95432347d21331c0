extension LogSegment {
    /// What `recoverOffline` did to a segment.
    public struct OfflineRecovery: Sendable, Equatable {
        /// Bytes of valid batches kept.
        public var validBytes: Int
        /// Bytes cut after them (torn, corrupt or zero-filled tail).
        public var truncatedBytes: Int
        /// The offset after the last kept batch (the base offset when none is left).
        public var nextOffset: Int64
    }

    /// Runs start-up recovery on one segment of a log nobody has open (an offline repair tool): scans every
    /// batch as `recover(truncate: true)` does, cuts the file after the last valid batch, rebuilds and trims
    /// both indexes and fsyncs the log. Throws `io` when the files cannot be opened or written.
    ///
    /// Thread-safety: the caller must own the segment's files exclusively (no broker running on them).
    public static func recoverOffline(
        directory: String, baseOffset: Int64, config: LogConfig = LogConfig()
    ) throws -> OfflineRecovery {
        let segment = try open(directory: directory, baseOffset: baseOffset, config: config, nowMs: 0)
        let result = try segment.recover(truncate: true)
        try segment.flush()
        try segment.trimIndexes(segment.storedWriterState)
        segment.dropMapping()
        return OfflineRecovery(
            validBytes: result.validBytes, truncatedBytes: result.invalidBytes, nextOffset: segment.storedWriterState.nextOffset)
    }
}
