/// Checks a partition's `leader-epoch-checkpoint` (written by Portask and Apache Kafka), in Kafka's text format:
/// ```
/// 0                 version
/// 2                 number of entries
/// 0 0               leader epoch, start offset
/// 3 1200
/// ```
/// Epochs must strictly increase and start offsets never decrease. An entry starting beyond the log end is
/// only a warning: Kafka and Portask truncate the epoch cache to the log at start-up. Against the batches: each
/// batch carrying an epoch must lie in that epoch's range (from its entry's start offset to the next entry's),
/// as the cache answers OffsetForLeaderEpoch from those ranges; batches before the first entry (removed by
/// retention and compaction, or written before epochs were recorded) are not checked.
///
/// Thread-safety: stateless.
enum LeaderEpochCheckpointCheck {
    static let name = "leader-epoch-checkpoint"

    static func run(
        path: String, logEnd: Int64?, batches: [(offset: Int64, epoch: Int32)] = []
    ) throws -> (damage: [Damage], warnings: [Warning]) {
        let file = try MappedFile(path: path)
        let lines = String(decoding: file.bytes, as: UTF8.self)
            .split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: " \r") }
        // The count is untrusted: compare it with the lines present without adding to it.
        guard lines.count >= 2, lines[0] == "0", let count = Int(lines[1]), count >= 0, count <= lines.count - 2 else {
            return ([Damage(.badCheckpoint, file: path, "malformed header (version 0 and an entry count expected)")], [])
        }
        var warnings: [Warning] = []
        var previous: (epoch: Int32, offset: Int64)? = nil
        var entries: [(epoch: Int32, offset: Int64)] = []
        for (number, line) in lines[2..<(count + 2)].enumerated() {
            let fields = line.split(separator: " ")
            guard fields.count == 2, let epoch = Int32(fields[0]), let offset = Int64(fields[1]), epoch >= 0, offset >= 0
            else {
                return ([Damage(.badCheckpoint, file: path, "malformed entry \(number): \"\(line)\"")], warnings)
            }
            if let previous, epoch <= previous.epoch || offset < previous.offset {
                return ([Damage(.badCheckpoint, file: path, offset: offset,
                                "entry \(number) (epoch \(epoch), offset \(offset)) does not follow "
                                    + "(epoch \(previous.epoch), offset \(previous.offset))")], warnings)
            }
            if let logEnd, offset > logEnd {
                warnings.append(Warning(file: path, "epoch \(epoch) starts at \(offset), beyond the log end offset "
                                            + "\(logEnd); Kafka truncates it at start-up"))
            }
            previous = (epoch, offset)
            entries.append((epoch, offset))
        }
        return (checkBatches(batches, against: entries, path: path), warnings)
    }

    /// Damage for the first batch whose epoch is not the one the entries give its offset.
    static func checkBatches(
        _ batches: [(offset: Int64, epoch: Int32)], against entries: [(epoch: Int32, offset: Int64)], path: String
    ) -> [Damage] {
        guard let first = entries.first else { return [] }
        var entry = 0
        for batch in batches where batch.offset >= first.offset && batch.epoch >= 0 {
            while entry + 1 < entries.count, entries[entry + 1].offset <= batch.offset { entry += 1 }
            if entries[entry].epoch != batch.epoch {
                return [Damage(.badCheckpoint, file: path, offset: batch.offset,
                               "the batch at offset \(batch.offset) has leader epoch \(batch.epoch), but the checkpoint "
                                   + "gives that offset to epoch \(entries[entry].epoch)")]
            }
        }
        return []
    }
}

extension Substring {
    func trimmingCharacters(in set: String) -> String {
        let characters = Set(set)
        return String(drop(while: { characters.contains($0) }).reversed().drop(while: { characters.contains($0) }).reversed())
    }
}
