import Foundation
import KafkaProtocol
import LogEngine

/// Persists each topic's id, partition count and config overrides as a properties file:
/// ```
/// <data.dir>/topic-metadata/<topic>.properties          (names whose file name fits 251 bytes)
/// <data.dir>/topic-metadata/<topic cut>-<id>.properties (longer names, up to Kafka's 249 characters)
///     topic.name=<topic>                                 (written for every topic; read when present)
///     topic.id=<32 hex digits>
///     partitions=<count, 1...Int32.max>
///     config.<topic config name>=<value>      (one line per override)
/// ```
/// Files are replaced atomically and durably (`DurableTextFile`). Stateless; thread-safe per topic.
struct TopicMetadataStore: Sendable {
    let directory: String

    init(dataDirectory: String) {
        directory = dataDirectory + "/topic-metadata"
    }

    private func path(_ name: String) -> String { "\(directory)/\(name).properties" }

    /// The file of `topic`: its name when that fits a file name (with room for the `.tmp` of an atomic
    /// replacement), else a cut name and the topic id.
    private func path(for topic: Topic) -> String {
        let plain = topic.name + ".properties"
        if plain.utf8.count <= Self.maximumFileName { return "\(directory)/\(plain)" }
        let suffix = "-" + Self.hex(topic.id) + ".properties"
        var prefix = Substring(topic.name)
        while prefix.utf8.count + suffix.utf8.count > Self.maximumFileName { prefix = prefix.dropLast() }
        return "\(directory)/\(prefix)\(suffix)"
    }

    /// 255 bytes, less the `.tmp` suffix of `DurableTextFile`'s replacement file.
    private static let maximumFileName = 251

    private static func hex(_ id: KafkaUUID) -> String {
        String(format: "%016llx%016llx", id.high, id.low)
    }

    func save(_ topic: Topic) throws {
        var lines = [
            "topic.name=" + topic.name,
            "topic.id=" + Self.hex(topic.id),
            "partitions=\(topic.partitionCount)",
        ]
        for (name, value) in topic.configs.sorted(by: { $0.key < $1.key }) {
            lines.append("config.\(name)=\(value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n"))")
        }
        try DurableTextFile.write(lines.joined(separator: "\n") + "\n", to: path(for: topic))
    }

    func remove(_ topic: Topic) throws {
        try DurableTextFile.remove(path(for: topic))
    }

    /// Every stored topic; files that cannot be parsed are returned in `unreadable`.
    func loadAll() throws -> (topics: [Topic], unreadable: [String]) {
        var topics: [Topic] = []
        var unreadable: [String] = []
        for file in try DurableTextFile.list(directory) where file.hasSuffix(".properties") {
            let name = String(file.dropLast(".properties".count))
            guard let text = try? DurableTextFile.read(path(name)), let topic = Self.parse(name: name, text: text) else {
                unreadable.append(file)
                continue
            }
            topics.append(topic)
        }
        return (topics, unreadable)
    }

    static func parse(name: String, text: String) -> Topic? {
        let properties = JavaProperties.parse(text)
        guard let idText = properties["topic.id"], idText.count == 32,
            let high = UInt64(idText.prefix(16), radix: 16), let low = UInt64(idText.suffix(16), radix: 16),
            let partitions = properties["partitions"].flatMap({ Int32($0) }), partitions > 0
        else { return nil }
        let name = properties["topic.name"] ?? name
        guard Topic.validate(name: name) == nil else { return nil }
        var configs: [String: String] = [:]
        for (key, value) in properties where key.hasPrefix("config.") {
            configs[String(key.dropFirst("config.".count))] = value
        }
        return Topic(name: name, id: KafkaUUID(high: high, low: low), partitionCount: Int(partitions), configs: configs)
    }
}
