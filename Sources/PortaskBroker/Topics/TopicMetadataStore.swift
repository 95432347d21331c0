import Foundation
import KafkaProtocol
import LogEngine

/// Persists each topic's id, partition count and config overrides as a properties file:
/// ```
/// <data.dir>/topic-metadata/<topic>.properties
///     topic.id=<32 hex digits>
///     partitions=<count>
///     config.<topic config name>=<value>      (one line per override)
/// ```
/// Files are replaced atomically and durably (`DurableTextFile`). Stateless; thread-safe per topic.
struct TopicMetadataStore: Sendable {
    let directory: String

    init(dataDirectory: String) {
        directory = dataDirectory + "/topic-metadata"
    }

    private func path(_ name: String) -> String { "\(directory)/\(name).properties" }

    func save(_ topic: Topic) throws {
        var lines = [
            "topic.id=" + String(format: "%016llx%016llx", topic.id.high, topic.id.low),
            "partitions=\(topic.partitionCount)",
        ]
        for (name, value) in topic.configs.sorted(by: { $0.key < $1.key }) {
            lines.append("config.\(name)=\(value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n"))")
        }
        try DurableTextFile.write(lines.joined(separator: "\n") + "\n", to: path(topic.name))
    }

    func remove(_ name: String) throws {
        try DurableTextFile.remove(path(name))
    }

    /// Every stored topic; files that cannot be parsed are returned in `unreadable`.
    func loadAll() throws -> (topics: [Topic], unreadable: [String]) {
        var topics: [Topic] = []
        var unreadable: [String] = []
        for file in try DurableTextFile.list(directory) where file.hasSuffix(".properties") {
            let name = String(file.dropLast(".properties".count))
            guard let text = try DurableTextFile.read(path(name)), let topic = Self.parse(name: name, text: text) else {
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
            let partitions = properties["partitions"].flatMap({ Int($0) }), partitions > 0
        else { return nil }
        var configs: [String: String] = [:]
        for (key, value) in properties where key.hasPrefix("config.") {
            configs[String(key.dropFirst("config.".count))] = value
        }
        return Topic(name: name, id: KafkaUUID(high: high, low: low), partitionCount: partitions, configs: configs)
    }
}
