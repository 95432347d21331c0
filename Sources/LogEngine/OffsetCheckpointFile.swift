/// A checkpoint file in Kafka's text format (`recovery-point-offset-checkpoint`, `log-start-offset-checkpoint`):
/// ```
/// 0                      version
/// 2                      number of entries
/// orders 0 1234          topic partition offset
/// orders 1 987
/// ```
/// Written atomically (temporary file, fsync, rename, directory fsync).
///
/// Thread-safety: stateless; concurrent writes of the same file must be serialised by the caller.
public struct OffsetCheckpointFile: Sendable {
    public let path: String
    let directory: String

    public init(directory: String, name: String) {
        self.directory = directory
        self.path = directory + "/" + name
    }

    public func write(_ offsets: [TopicPartition: Int64]) throws {
        var text = "0\n\(offsets.count)\n"
        for (partition, offset) in offsets.sorted(by: { $0.key < $1.key }) {
            text += "\(partition.topic) \(partition.partition) \(offset)\n"
        }
        try FileSystem.writeAtomically(text, to: path, directory: directory)
    }

    /// The entries; empty when the file does not exist. Throws `corruptIndex` when it is malformed.
    public func read() throws -> [TopicPartition: Int64] {
        guard let text = try FileSystem.readString(path) else { return [:] }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingSpaces() }
        // The count is untrusted: compare it with the lines present without adding to it.
        guard lines.count >= 2, lines[0] == "0", let count = Int(lines[1]), count >= 0, count <= lines.count - 2 else {
            throw LogEngineError(.corruptIndex, "malformed checkpoint header", context: path)
        }
        var result: [TopicPartition: Int64] = [:]
        for line in lines[2..<(count + 2)] {
            let fields = line.split(separator: " ")
            guard fields.count == 3, let partition = Int32(fields[1]), let offset = Int64(fields[2]) else {
                throw LogEngineError(.corruptIndex, "malformed checkpoint entry \"\(line)\"", context: path)
            }
            result[TopicPartition(String(fields[0]), partition)] = offset
        }
        return result
    }
}

extension Substring {
    func trimmingSpaces() -> String {
        String(drop(while: { $0 == " " || $0 == "\r" }).reversed().drop(while: { $0 == " " || $0 == "\r" }).reversed())
    }
}
