import Dispatch

/// All partition logs of one data directory:
/// ```
/// <data.dir>/meta.properties
/// <data.dir>/recovery-point-offset-checkpoint     per partition: offsets below are fsynced
/// <data.dir>/log-start-offset-checkpoint          per partition: first readable offset
/// <data.dir>/cleaner-offset-checkpoint            per compacted partition: first uncleaned offset
/// <data.dir>/replication-offset-checkpoint        per partition: high watermark
/// <data.dir>/<topic>-<partition>/...              one PartitionLog each
/// <data.dir>/<topic>-<partition>.<id>-delete/     a partition being deleted (removed at start-up)
/// ```
/// Opening recovers every partition from its checkpointed recovery point, partitions in parallel. Idle partitions hold one file
/// descriptor per segment `.log` file and no thread; index files are mapped on demand.
///
/// Thread-safety: all methods may be called from any thread; the partition map is guarded by a lock and
/// checkpoint writes are serialised.
public final class LogManager: @unchecked Sendable {
    public static let recoveryPointCheckpointName = "recovery-point-offset-checkpoint"
    public static let logStartCheckpointName = "log-start-offset-checkpoint"
    public static let highWatermarkCheckpointName = "replication-offset-checkpoint"

    public let directory: String
    public let defaultConfig: LogConfig
    public let meta: MetaProperties
    let clock: LogClock
    private let lock = Lock()
    private let checkpointLock = Lock()
    private var logs: [TopicPartition: PartitionLog] = [:]
    private var configs: [TopicPartition: LogConfig] = [:]
    /// The high watermarks of `replication-offset-checkpoint` as found at open (Kafka's starting point for a
    /// replica's high watermark); empty when the file was absent or unreadable. The logs themselves open with
    /// the high watermark at their log end, as a single replica's always is.
    public let checkpointedHighWatermarks: [TopicPartition: Int64]
    /// The log cleaner's bookkeeping (see `LogManager+Cleaning.swift`).
    let cleaning = LockedState(CleaningState())
    /// What the logs' appends and reads have done: the cleaner yields to it (`LogCleaner(activity:)`).
    public let activity = LogActivity()

    /// Opens (creating when needed) the data directory and every partition in it.
    ///
    /// - Parameters:
    ///   - configFor: per-partition configuration overrides (topic configs); `defaultConfig` otherwise.
    /// - Throws: `invalidArgument` when meta.properties names another node.
    public init(
        directory: String, defaultConfig: LogConfig = LogConfig(), clock: LogClock = .system, nodeID: Int32 = 0,
        clusterID: String? = nil, configFor: (TopicPartition) -> LogConfig? = { _ in nil }
    ) throws {
        self.directory = directory
        self.defaultConfig = defaultConfig
        self.clock = clock
        try FileSystem.makeDirectory(directory)
        let metaPath = directory + "/meta.properties"
        if let text = try FileSystem.readString(metaPath) {
            let meta = try MetaProperties(parsing: text, path: metaPath)
            guard meta.nodeID == nodeID else {
                throw LogEngineError(
                    .invalidArgument, "data directory belongs to node \(meta.nodeID), not \(nodeID)", context: metaPath)
            }
            self.meta = meta
        } else {
            let meta = MetaProperties(clusterID: clusterID ?? MetaProperties.randomID(), nodeID: nodeID)
            try FileSystem.writeAtomically(meta.text, to: metaPath, directory: directory)
            self.meta = meta
        }
        self.checkpointedHighWatermarks =
            (try? OffsetCheckpointFile(directory: directory, name: Self.highWatermarkCheckpointName).read()) ?? [:]
        let recoveryPoints = (try? recoveryPointFile.read()) ?? [:]
        let logStarts = (try? logStartFile.read()) ?? [:]
        var partitions: [(TopicPartition, String)] = []
        for name in try FileSystem.list(directory).sorted() {
            let path = directory + "/" + name
            guard FileSystem.isDirectory(path) else { continue }
            if name.hasSuffix("-delete") {
                try FileSystem.removeDirectory(path)
                continue
            }
            if let partition = TopicPartition(directoryName: name) { partitions.append((partition, path)) }
        }
        // Partitions recover independently: open them on all cores.
        let jobs = partitions.map { partition, path in
            (partition, path, configFor(partition) ?? defaultConfig, recoveryPoints[partition] ?? 0,
             logStarts[partition] ?? 0)
        }
        let results = OpenResults(count: jobs.count)
        let activity = self.activity
        DispatchQueue.concurrentPerform(iterations: jobs.count) { index in
            let (_, path, config, recoveryPoint, logStart) = jobs[index]
            results.set(index) {
                try PartitionLog(
                    directory: path, config: config, clock: clock, recoveryPoint: recoveryPoint,
                    logStartOffset: logStart, activity: activity)
            }
        }
        for (index, job) in jobs.enumerated() {
            logs[job.0] = try results.get(index)
            configs[job.0] = job.2
        }
        try checkpoint()
    }

    var recoveryPointFile: OffsetCheckpointFile {
        OffsetCheckpointFile(directory: directory, name: Self.recoveryPointCheckpointName)
    }

    var logStartFile: OffsetCheckpointFile {
        OffsetCheckpointFile(directory: directory, name: Self.logStartCheckpointName)
    }

    var highWatermarkFile: OffsetCheckpointFile {
        OffsetCheckpointFile(directory: directory, name: Self.highWatermarkCheckpointName)
    }

    /// The log of `partition`, if it exists.
    public func log(for partition: TopicPartition) -> PartitionLog? {
        lock.withLock { logs[partition] }
    }

    /// Every partition and its log.
    public var allLogs: [TopicPartition: PartitionLog] { lock.withLock { logs } }

    /// The log of `partition`, created (empty, with `config` or the default) when absent.
    @discardableResult
    public func createLog(for partition: TopicPartition, config: LogConfig? = nil) throws -> PartitionLog {
        guard TopicPartition.isValidTopicName(partition.topic), partition.partition >= 0 else {
            throw LogEngineError(.invalidArgument, "invalid partition name", context: partition.directoryName)
        }
        let log: PartitionLog = try lock.withLock {
            if let existing = logs[partition] { return existing }
            let resolved = config ?? defaultConfig
            let log = try PartitionLog(
                directory: directory + "/" + partition.directoryName, config: resolved, clock: clock,
                activity: activity)
            try FileSystem.syncDirectory(directory)
            logs[partition] = log
            configs[partition] = resolved
            return log
        }
        return log
    }

    /// Closes the log of `partition` and deletes its directory: renamed to `<name>.<id>-delete` first (so a
    /// crash midway finishes the deletion at the next start-up), then removed.
    public func deleteLog(for partition: TopicPartition) throws {
        guard let log = lock.withLock({ logs.removeValue(forKey: partition) }) else {
            throw LogEngineError(.notFound, "no such partition", context: partition.directoryName)
        }
        try? log.close()
        // Kafka's deletion name: the topic cut so that the whole name fits a 255-byte file name.
        let suffix = "-\(partition.partition)." + MetaProperties.randomID() + "-delete"
        var prefix = Substring(partition.topic)
        while prefix.utf8.count + suffix.utf8.count > 255 { prefix = prefix.dropLast() }
        let renamed = directory + "/" + prefix + suffix
        try FileSystem.rename(log.directory, renamed)
        try FileSystem.syncDirectory(directory)
        try FileSystem.removeDirectory(renamed)
        forgetCleanerState(of: partition)
        try checkpoint()
    }

    /// Writes the checkpoint files from the logs' current recovery points, log start offsets and high watermarks.
    public func checkpoint() throws {
        try checkpointLock.withLock {
            let current = allLogs
            try recoveryPointFile.write(current.mapValues(\.recoveryPoint))
            try logStartFile.write(current.mapValues(\.logStartOffset))
            try highWatermarkFile.write(current.mapValues(\.highWatermark))
        }
    }

    /// Periodic housekeeping: `flush.ms` flushes, retention, producer expiry and producer snapshots (of fully
    /// flushed logs), descriptors unused since the previous run closed, then checkpoints. Returns segments
    /// deleted.
    @discardableResult
    public func runMaintenance() throws -> Int {
        var deleted = 0
        for log in allLogs.values {
            try log.flushIfDue()
            deleted += try log.deleteOldSegments()
            log.removeExpiredProducers()
            try log.snapshotProducerStateIfFlushed()
            log.releaseIdleDescriptors()
        }
        try checkpoint()
        return deleted
    }

    /// Flushes and closes every log, then checkpoints, so the next start-up scans nothing.
    public func close() throws {
        for log in allLogs.values { try log.close() }
        try checkpoint()
    }
}

/// Results of opening partitions concurrently, one slot per partition. Thread-safety: guarded by a lock.
private final class OpenResults: @unchecked Sendable {
    private let lock = Lock()
    private var slots: [Result<PartitionLog, Error>?]

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ open: () throws -> PartitionLog) {
        let result = Result { try open() }
        lock.withLock { slots[index] = result }
    }

    func get(_ index: Int) throws -> PartitionLog {
        guard let result = lock.withLock({ slots[index] }) else {
            throw LogEngineError(.io, "partition \(index) was not opened")
        }
        return try result.get()
    }
}
