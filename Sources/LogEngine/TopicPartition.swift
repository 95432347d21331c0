/// A topic name and partition number; its log lives in the directory `<topic>-<partition>`.
///
/// Thread-safety: a value type.
public struct TopicPartition: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32

    public init(_ topic: String, _ partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    /// Parses `<topic>-<partition>` (the topic may itself contain dashes).
    public init?(directoryName: String) {
        guard let dash = directoryName.lastIndex(of: "-"), dash != directoryName.startIndex,
              let partition = Int32(directoryName[directoryName.index(after: dash)...]), partition >= 0
        else { return nil }
        self.topic = String(directoryName[..<dash])
        self.partition = partition
    }

    public var directoryName: String { "\(topic)-\(partition)" }
    public var description: String { directoryName }

    public static func < (lhs: TopicPartition, rhs: TopicPartition) -> Bool {
        (lhs.topic, lhs.partition) < (rhs.topic, rhs.partition)
    }

    /// Kafka's legal topic names: 1 to 249 characters of ASCII letters, digits, '.', '_' and '-', not "." or "..".
    public static func isValidTopicName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 249, name != ".", name != ".." else { return false }
        return name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
    }
}
