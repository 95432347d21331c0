/// Checks a partition's `leader-epoch-checkpoint`, which Apache Kafka writes (Portask does not yet), in Kafka's
/// text format:
/// ```
/// 0                 version
/// 2                 number of entries
/// 0 0               leader epoch, start offset
/// 3 1200
/// ```
/// Epochs must strictly increase and start offsets never decrease. An entry starting beyond the log end is
/// only a warning: Kafka truncates its epoch cache to the log at start-up.
///
/// Thread-safety: stateless.
enum LeaderEpochCheckpointCheck {
    static let name = "leader-epoch-checkpoint"

    static func run(path: String, logEnd: Int64?) throws -> (damage: [Damage], warnings: [Warning]) {
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
        }
        return ([], warnings)
    }
}

extension Substring {
    func trimmingCharacters(in set: String) -> String {
        let characters = Set(set)
        return String(drop(while: { characters.contains($0) }).reversed().drop(while: { characters.contains($0) }).reversed())
    }
}
