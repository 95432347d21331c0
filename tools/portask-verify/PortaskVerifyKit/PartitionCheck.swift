import LogEngine

/// Checks one partition directory: every segment (`SegmentCheck`) with its offset and time index
/// (`IndexCheck`) and Kafka's aborted transaction index (`TransactionIndexCheck`), offsets increasing across
/// segments, the producer state snapshots (`.snapshot`, decoded with LogEngine's `ProducerStateSnapshot`) and
/// Kafka's `leader-epoch-checkpoint` (`LeaderEpochCheckpointCheck`). Leftovers of interrupted operations
/// (`.deleted`, `.cleaned`, `.swap`), missing indexes and orphan index files are warnings: the broker deals with
/// them on start-up, and `--repair` does what the broker's start-up does.
///
/// Thread-safety: a value type; `run` only reads files.
struct PartitionCheck {
    let directory: String
    let deep: Bool

    var damage: [Damage] = []
    var warnings: [Warning] = []
    var totals = VerifyReport.Totals()
    /// Base offsets of the segments, ascending.
    var segmentBases: [Int64] = []
    /// The log end offset recovery would leave (after truncating at the first damage), or nil without segments.
    var validLogEnd: Int64?
    /// Whether `leader-epoch-checkpoint` failed its check (the repair moves it aside).
    var badLeaderEpochCheckpoint = false
    /// Whether an index file is missing (recovery rebuilds it).
    var missingIndex = false
    /// Whether files of an interrupted operation are present (`.deleted`, `.cleaned`, `.swap`: a cleaner's
    /// replacement of segments that a stop cut short).
    var interruptedOperation = false
    /// Whether recovery would change something: repairable damage, a missing index or an interrupted operation
    /// to finish or discard.
    var needsRecovery: Bool { missingIndex || interruptedOperation || damage.contains { $0.repairable } }

    init(directory: String, deep: Bool) {
        self.directory = directory
        self.deep = deep
    }

    /// Base offsets of the `<20 digits>.log` files in `directory`, ascending.
    static func segmentBaseOffsets(in names: [String]) -> [Int64] {
        names.compactMap { name -> Int64? in
            guard name.hasSuffix(".log"), name.utf8.count == 24 else { return nil }
            return SegmentCheck.parseBaseOffset(name.prefix(20))
        }.sorted()
    }

    mutating func run(progress: ((Int) -> Void)?) throws {
        let names = try Directory.list(directory)
        let nameSet = Set(names)
        segmentBases = Self.segmentBaseOffsets(in: names)
        totals.partitions = 1
        for name in names.sorted() {
            if name.hasSuffix(".deleted") || name.hasSuffix(".cleaned") || name.hasSuffix(".swap") {
                let fate = name.hasSuffix(".log.swap")
                    ? "a cleaned segment of an interrupted swap; the broker completes the swap at start-up"
                    : "left over from an interrupted operation; removed at start-up"
                warnings.append(Warning(file: path(name), fate))
                interruptedOperation = true
            } else if name.hasSuffix(".index") || name.hasSuffix(".timeindex"), let base = SegmentCheck.parseBaseOffset(name.prefix(20)),
                      !segmentBases.contains(base) {
                warnings.append(Warning(file: path(name), "index without a .log file; removed at start-up"))
            }
        }
        var previousLast: Int64? = nil
        var truncated = false
        /// Base offset and leader epoch of every valid batch (epoch -1 when it carries none), oldest first.
        var batchEpochs: [(offset: Int64, epoch: Int32)] = []
        for base in segmentBases {
            let logName = LogSegment.fileName(base, suffix: ".log")
            var segment = SegmentCheck(path: path(logName), baseOffset: base, deep: deep)
            try segment.run(progress: progress)
            if base == segmentBases.last {
                // Zeros after the last batch of the active segment: the broker cuts them at start, losing nothing.
                for index in segment.damage.indices where segment.damage[index].kind == .zeroFilledTail {
                    segment.damage[index].repairedOnStart = true
                }
            }
            damage += segment.damage
            warnings += segment.warnings
            totals.segments += 1
            totals.batches += segment.batches.count
            totals.records += segment.records
            totals.logBytes += Int64(segment.fileSize)
            if let previousLast, let first = segment.batches.first, first.baseOffset <= previousLast {
                damage.append(Damage(.segmentOverlap, file: segment.path, position: 0, offset: first.baseOffset,
                                     "first offset \(first.baseOffset) not above the previous segment's last offset \(previousLast)"))
            } else if let previousLast, base <= previousLast {
                damage.append(Damage(.segmentOverlap, file: segment.path, offset: base,
                                     "base offset \(base) not above the previous segment's last offset \(previousLast)"))
            }
            if let last = segment.lastOffset { previousLast = max(previousLast ?? last, last) }
            if !truncated {
                for batch in segment.batches where batch.position + batch.size <= segment.validBytes {
                    batchEpochs.append((batch.baseOffset, batch.leaderEpoch))
                }
                validLogEnd = segment.validNextOffset ?? base
                truncated = segment.validBytes < segment.fileSize
            }
            for (suffix, isTime) in [(".index", false), (".timeindex", true)] {
                let name = LogSegment.fileName(base, suffix: suffix)
                guard nameSet.contains(name) else {
                    if segment.fileSize > 0 {
                        missingIndex = true
                        warnings.append(Warning(file: path(name), "missing; rebuilt from the log at start-up"))
                    }
                    continue
                }
                let result = isTime
                    ? try IndexCheck.timeIndex(path: path(name), log: segment)
                    : try IndexCheck.offsetIndex(path: path(name), log: segment)
                damage += result.damage
                if isTime { totals.timeIndexEntries += result.entries } else { totals.offsetIndexEntries += result.entries }
            }
            let transactions = LogSegment.fileName(base, suffix: ".txnindex")
            if nameSet.contains(transactions) {
                damage += try TransactionIndexCheck.run(path: path(transactions), log: segment)
            }
        }
        try checkProducerSnapshots(names)
        if nameSet.contains(LeaderEpochCheckpointCheck.name) {
            let result = try LeaderEpochCheckpointCheck.run(
                path: path(LeaderEpochCheckpointCheck.name), logEnd: validLogEnd, batches: batchEpochs)
            damage += result.damage
            warnings += result.warnings
            badLeaderEpochCheckpoint = !result.damage.isEmpty
            totals.checkpoints += 1
        }
    }

    private mutating func checkProducerSnapshots(_ names: [String]) throws {
        for name in names.sorted() where name.hasSuffix(ProducerStateSnapshot.suffix) {
            guard let offset = SegmentCheck.parseBaseOffset(name.prefix(20)) else { continue }
            totals.producerSnapshots += 1
            let file = try MappedFile(path: path(name))
            do {
                _ = try ProducerStateSnapshot.decode(Array(file.bytes), path: file.path)
            } catch {
                let message = (error as? LogEngineError)?.message ?? "\(error)"
                damage.append(Damage(.badProducerSnapshot, file: file.path, offset: offset, message))
                continue
            }
            if let end = validLogEnd, offset > end {
                warnings.append(Warning(file: file.path, "snapshot above the log end offset \(end); removed at start-up"))
            }
        }
    }

    private func path(_ name: String) -> String { directory + "/" + name }
}
