import LogEngine

/// Checks a broker data directory (layout in LogEngine's `LogManager`): `meta.properties`, every
/// `<topic>-<partition>` directory (`PartitionCheck`) and the checkpoint files in Kafka's text format
/// (`OffsetCheckpointFile`): each must parse, and no checkpointed offset may lie beyond the log end offset
/// recovery would leave in its partition.
///
/// Thread-safety: a value type; `run` only reads files.
struct DataDirectoryCheck {
    /// Checkpoint files this check knows, all in the same format: Portask writes the first two, Kafka all four.
    static let checkpointNames = [
        LogManager.recoveryPointCheckpointName, LogManager.logStartCheckpointName,
        "replication-offset-checkpoint", "cleaner-offset-checkpoint",
    ]

    /// What the check learnt about one partition (the repair uses it to rewrite checkpoints).
    struct PartitionState {
        var directory: String
        var firstBaseOffset: Int64?
        var validLogEnd: Int64?
        var needsRecovery: Bool
    }

    let directory: String
    let deep: Bool

    var damage: [Damage] = []
    var warnings: [Warning] = []
    var totals = VerifyReport.Totals()
    var partitions: [TopicPartition: PartitionState] = [:]
    /// The checks of the partitions, in directory order.
    var partitionChecks: [PartitionCheck] = []
    /// Checkpoint files (by name) that do not parse, and those with entries beyond a log end.
    var malformedCheckpoints: Set<String> = []
    var checkpointsBeyondEnd: Set<String> = []

    init(directory: String, deep: Bool) {
        self.directory = directory
        self.deep = deep
    }

    mutating func run(progress: ((Int) -> Void)?) throws {
        totals.dataDirectories = 1
        checkMetaProperties()
        for name in try Directory.list(directory).sorted() {
            let path = directory + "/" + name
            guard Directory.isDirectory(path) == true else { continue }
            if name.hasSuffix("-delete") {
                warnings.append(Warning(file: path, "partition deletion in progress; removed at start-up"))
                continue
            }
            guard let partition = TopicPartition(directoryName: name) else { continue }
            var check = PartitionCheck(directory: path, deep: deep)
            try check.run(progress: progress)
            damage += check.damage
            warnings += check.warnings
            totals.add(check.totals)
            partitionChecks.append(check)
            partitions[partition] = PartitionState(
                directory: path, firstBaseOffset: check.segmentBases.first, validLogEnd: check.validLogEnd,
                needsRecovery: check.needsRecovery)
        }
        for name in Self.checkpointNames where Directory.exists(directory + "/" + name) {
            checkCheckpoint(name)
        }
    }

    private mutating func checkMetaProperties() {
        let path = directory + "/meta.properties"
        guard Directory.exists(path) else {
            warnings.append(Warning(file: path, "missing; written at start-up"))
            return
        }
        do {
            let file = try MappedFile(path: path)
            _ = try MetaProperties(parsing: String(decoding: file.bytes, as: UTF8.self), path: path)
        } catch {
            damage.append(Damage(.badMetaProperties, file: path, (error as? LogEngineError)?.message ?? "\(error)"))
        }
    }

    private mutating func checkCheckpoint(_ name: String) {
        let file = OffsetCheckpointFile(directory: directory, name: name)
        totals.checkpoints += 1
        let entries: [TopicPartition: Int64]
        do {
            entries = try file.read()
        } catch {
            malformedCheckpoints.insert(name)
            damage.append(Damage(.badCheckpoint, file: file.path, (error as? LogEngineError)?.message ?? "\(error)"))
            return
        }
        for (partition, offset) in entries.sorted(by: { $0.key < $1.key }) {
            guard let state = partitions[partition] else {
                warnings.append(Warning(file: file.path, "entry for \(partition), which has no directory here"))
                continue
            }
            guard let end = state.validLogEnd else { continue }
            if offset > end || offset < 0 {
                checkpointsBeyondEnd.insert(name)
                damage.append(Damage(
                    .checkpointBeyondLogEnd, file: file.path, offset: offset,
                    "\(partition): checkpointed offset \(offset) outside the log (log end offset \(end))"))
            }
        }
    }
}

extension VerifyReport.Totals {
    mutating func add(_ other: VerifyReport.Totals) {
        dataDirectories += other.dataDirectories
        partitions += other.partitions
        segments += other.segments
        batches += other.batches
        records += other.records
        logBytes += other.logBytes
        offsetIndexEntries += other.offsetIndexEntries
        timeIndexEntries += other.timeIndexEntries
        checkpoints += other.checkpoints
        producerSnapshots += other.producerSnapshots
    }
}
