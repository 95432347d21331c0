import Foundation
import LogEngine

/// `--repair`: fixes what the check found with the code LogEngine runs at start-up, on a stopped broker's files.
///
/// - A partition with repairable damage (or a missing index) is opened as a `PartitionLog` with recovery point
///   0, so every segment is scanned: the first invalid batch and everything after it is truncated (later
///   segments deleted), indexes are rebuilt and trimmed, leftovers of interrupted operations and unreadable
///   producer snapshots are removed. The log is then closed (flushed).
/// - A partition with files of an interrupted segment replacement (`.cleaned`, `.swap`, `.deleted`: a cleaner
///   stopped mid-swap, Kafka's or Portask's) is recovered the same way, so the swap is finished or discarded by
///   the very code the broker runs at start-up (`.cleaned` files removed; a `.log.swap` replaces the segments
///   its offsets cover unless a `.cleaned` file at or below its base offset shows the swap incomplete; see
///   `PartitionLog`'s loading). The repair lists what recovery did with each swap.
/// - A single segment file is recovered alone with `LogSegment.recoverOffline`.
/// - Checkpoint files of a data directory: a malformed one is moved aside to `<name>.corrupt` (the broker reads
///   a missing checkpoint as it reads a malformed one) and, for the recovery point and log start checkpoints,
///   written afresh (recovery point 0, or the log end for recovered partitions, which recovery fsynced; log
///   start the first segment's base offset); entries beyond a log end are lowered to it, and recovered
///   partitions get their log end as recovery point, as `LogManager` writes after recovery.
///
/// Damage recovery does not cover (timestamps, overlapping segments, record contents) is left as it is.
/// Thread-safety: stateless; the caller must own the files exclusively.
enum Repairer {
    static func repair(_ findings: Verifier.Findings) throws -> [VerifyReport.Repair] {
        var repairs: [VerifyReport.Repair] = []
        for dataDirectory in findings.dataDirectories {
            repairs += try repairDataDirectory(dataDirectory)
        }
        for partition in findings.partitions {
            repairs += try repairLeaderEpochCheckpoint(partition)
            guard partition.needsRecovery else { continue }
            let (repair, _) = try recoverPartition(partition.directory, logStartOffset: 0)
            repairs.append(repair)
        }
        for path in findings.segmentFiles where (findings.report.damage + findings.report.notes).contains(where: { $0.file == path && $0.repairable }) {
            repairs.append(try recoverSegment(path))
        }
        return repairs
    }

    /// Opens and closes the partition's log with recovery point 0; returns the repair and the resulting log.
    static func recoverPartition(_ directory: String, logStartOffset: Int64) throws -> (VerifyReport.Repair, PartitionLog) {
        do {
            let log = try PartitionLog(directory: directory, recoveryPoint: 0, logStartOffset: logStartOffset)
            try log.close()
            let stats = log.recoveryStats
            let notes = stats.warnings.isEmpty ? "" : "; " + stats.warnings.joined(separator: "; ")
            let repair = VerifyReport.Repair(
                action: "recoveredPartition", path: directory,
                message: "scanned \(stats.segmentsScanned) segments, truncated \(stats.bytesTruncated) bytes, "
                    + "rebuilt indexes; log end offset \(log.logEndOffset)" + notes,
                bytesTruncated: stats.bytesTruncated)
            return (repair, log)
        } catch {
            throw VerifyError(.io, "recovery failed: \(error)", context: directory)
        }
    }

    static func recoverSegment(_ path: String) throws -> VerifyReport.Repair {
        guard let base = Verifier.baseOffset(ofSegmentFile: path) else {
            throw VerifyError(.usage, "cannot repair a segment file not named after its base offset", context: path)
        }
        let directory = path.contains("/") ? String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)]) : "."
        do {
            let result = try LogSegment.recoverOffline(directory: directory.isEmpty ? "/" : directory, baseOffset: base)
            return VerifyReport.Repair(
                action: "recoveredSegment", path: Verifier.logPath(forIndex: path),
                message: "kept \(result.validBytes) bytes, truncated \(result.truncatedBytes), rebuilt indexes; "
                    + "next offset \(result.nextOffset)",
                bytesTruncated: result.truncatedBytes)
        } catch {
            throw VerifyError(.io, "recovery failed: \(error)", context: path)
        }
    }

    private static func repairDataDirectory(_ check: DataDirectoryCheck) throws -> [VerifyReport.Repair] {
        var repairs: [VerifyReport.Repair] = []
        let logStarts = (try? OffsetCheckpointFile(directory: check.directory, name: LogManager.logStartCheckpointName)
            .read()) ?? [:]
        var logEnds: [TopicPartition: Int64] = check.partitions.compactMapValues(\.validLogEnd)
        var recovered: [TopicPartition: PartitionLog] = [:]
        for partition in check.partitionChecks { repairs += try repairLeaderEpochCheckpoint(partition) }
        for (partition, state) in check.partitions.sorted(by: { $0.key < $1.key }) where state.needsRecovery {
            let (repair, log) = try recoverPartition(state.directory, logStartOffset: logStarts[partition] ?? 0)
            repairs.append(repair)
            recovered[partition] = log
            logEnds[partition] = log.logEndOffset
        }
        for name in DataDirectoryCheck.checkpointNames where Directory.exists(check.directory + "/" + name) {
            let file = OffsetCheckpointFile(directory: check.directory, name: name)
            var entries: [TopicPartition: Int64]
            if check.malformedCheckpoints.contains(name) {
                try moveAside(file.path)
                repairs.append(.init(action: "movedAsideCheckpoint", path: file.path,
                                     message: "malformed; kept as \(file.path).corrupt"))
                switch name {
                case LogManager.recoveryPointCheckpointName:
                    entries = check.partitions.mapValues { _ in 0 }
                case LogManager.logStartCheckpointName:
                    entries = check.partitions.mapValues { $0.firstBaseOffset ?? 0 }
                default:
                    continue
                }
            } else {
                guard let read = try? file.read() else { continue }
                entries = read
            }
            var changed = check.malformedCheckpoints.contains(name)
            for (partition, offset) in entries {
                guard let end = logEnds[partition] else { continue }
                var fixed = min(max(offset, 0), end)
                if let log = recovered[partition] {
                    if name == LogManager.recoveryPointCheckpointName { fixed = log.logEndOffset }
                    if name == LogManager.logStartCheckpointName { fixed = log.logStartOffset }
                }
                if fixed != offset {
                    entries[partition] = fixed
                    changed = true
                }
            }
            guard changed else { continue }
            do {
                try file.write(entries)
            } catch {
                throw VerifyError(.io, "cannot write checkpoint: \(error)", context: file.path)
            }
            repairs.append(.init(action: "rewroteCheckpoint", path: file.path,
                                 message: "\(entries.count) entries, none beyond its partition's log end"))
        }
        return repairs
    }

    /// Moves a malformed `leader-epoch-checkpoint` aside: Kafka starts with an empty epoch cache and refills it
    /// from the batches it recovers.
    static func repairLeaderEpochCheckpoint(_ partition: PartitionCheck) throws -> [VerifyReport.Repair] {
        guard partition.badLeaderEpochCheckpoint else { return [] }
        let path = partition.directory + "/" + LeaderEpochCheckpointCheck.name
        try moveAside(path)
        return [.init(action: "movedAsideCheckpoint", path: path, message: "malformed; kept as \(path).corrupt")]
    }

    private static func moveAside(_ path: String) throws {
        let target = path + ".corrupt"
        do {
            if FileManager.default.fileExists(atPath: target) { try FileManager.default.removeItem(atPath: target) }
            try FileManager.default.moveItem(atPath: path, toPath: target)
        } catch {
            throw VerifyError(.io, "cannot move a malformed checkpoint aside", context: path)
        }
    }
}
