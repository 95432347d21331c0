import KafkaProtocol

/// A topic's identity and shape. Immutable snapshot; thread-safe.
public struct Topic: Sendable, Equatable {
    public var name: String
    public var id: KafkaUUID
    public var partitionCount: Int
    /// Topic-level config overrides, by Kafka's topic config names.
    public var configs: [String: String]

    public init(name: String, id: KafkaUUID, partitionCount: Int, configs: [String: String] = [:]) {
        self.name = name
        self.id = id
        self.partitionCount = partitionCount
        self.configs = configs
    }

    /// Kafka's internal topics start with a double underscore.
    public var isInternal: Bool { name == "__consumer_offsets" || name == "__transaction_state" }

    /// Kafka's topic-name rule: 1–249 characters of `[a-zA-Z0-9._-]`, not "." or "..".
    /// Returns the reason a name is invalid, or `nil` when it is valid.
    public static func validate(name: String) -> String? {
        if name.isEmpty { return "topic name is empty" }
        if name == "." || name == ".." { return "topic name cannot be '.' or '..'" }
        if name.utf8.count > 249 { return "topic name is longer than 249 characters" }
        let allowed = name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2E || byte == 0x5F || byte == 0x2D
        }
        return allowed ? nil : "topic name '\(name)' contains characters other than ASCII letters, digits, '.', '_' and '-'"
    }
}
