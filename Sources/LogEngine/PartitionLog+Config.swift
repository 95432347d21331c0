extension PartitionLog {
    /// The log's current configuration (topic configs applied to this partition).
    ///
    /// Thread-safety: callable from any thread; returns a consistent snapshot. Appends, rolls and retention
    /// read it under the append lock, so one append sees one configuration from start to end.
    public var config: LogConfig {
        configState.withLock { $0 }
    }

    /// Replaces the log's configuration while it is open (AlterConfigs on the topic). The change applies from
    /// the next append, roll, flush check and retention run: e.g. a lower `max.message.bytes` rejects the next
    /// larger batch, a lower `retention.ms` deletes at the next retention run. Existing segments keep their
    /// preallocated index size; new segments use the new `segment.index.bytes`.
    ///
    /// Thread-safety: callable from any thread; waits for an append in progress to finish.
    /// - Throws: `invalidArgument` when the configuration could not open a log (the log keeps its old one).
    public func updateConfig(_ newConfig: LogConfig) throws {
        if let problem = Self.problem(with: newConfig) {
            throw LogEngineError(.invalidArgument, problem, context: directory)
        }
        writer.withLock { _ in
            configState.withLock { $0 = newConfig }
        }
    }

    /// Why a log could not run with `config`, or `nil` when it can. Stateless; thread-safe.
    public static func problem(with config: LogConfig) -> String? {
        if config.segmentBytes <= RecordBatchHeader.size || config.segmentBytes > Int(Int32.max) {
            return "segment.bytes must be larger than \(RecordBatchHeader.size) and at most \(Int32.max)"
        }
        if config.segmentIndexBytes < OffsetIndex.entrySize * 4 {
            return "segment.index.bytes must be at least \(OffsetIndex.entrySize * 4)"
        }
        if config.indexIntervalBytes < 0 { return "index.interval.bytes must not be negative" }
        return nil
    }
}
