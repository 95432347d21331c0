import KafkaProtocol

/// The answer to one resource of an admin request (a topic, a config resource): Kafka's error code and
/// message, or success. A value type; thread-safe.
struct AdminOutcome: Sendable, Equatable {
    var code: KafkaErrorCode
    var message: String?

    init(_ code: KafkaErrorCode, _ message: String? = nil) {
        self.code = code
        self.message = message
    }

    static let success = AdminOutcome(.noError)

    var isSuccess: Bool { code == .noError }
}

/// Kafka's config resource types (DescribeConfigs, AlterConfigs, IncrementalAlterConfigs).
enum ConfigResourceType: Int8 {
    case topic = 2
    case broker = 4
    case brokerLogger = 8
    case clientMetrics = 16
    case group = 32

    /// Checks the name of a broker resource: this broker's id, or "" for the cluster-wide default.
    static func checkBrokerName(_ name: String, nodeId: Int32) -> AdminOutcome {
        if name.isEmpty { return .success }
        guard let id = Int32(name) else {
            return AdminOutcome(.invalidRequest, "Broker id must be an integer, but it is: \(name)")
        }
        guard id == nodeId else {
            return AdminOutcome(.invalidRequest, "Unexpected broker id, expected \(nodeId) or empty string, but received \(id)")
        }
        return .success
    }

    /// The answer for resource types portaskd does not serve.
    static func unsupported(_ type: Int8) -> AdminOutcome {
        if type == ConfigResourceType.brokerLogger.rawValue {
            return AdminOutcome(.invalidRequest, "Broker logger configs (resource type 8) are not served by portaskd")
        }
        return AdminOutcome(.invalidRequest, "Unsupported resource type: \(type)")
    }
}

extension TopicManager {
    /// The answer for a topic that is asked about by name: INVALID_TOPIC_EXCEPTION for an invalid name,
    /// UNKNOWN_TOPIC_OR_PARTITION when absent, or the topic.
    func lookUp(_ name: String) -> (topic: Topic?, outcome: AdminOutcome) {
        if let reason = Topic.validate(name: name) { return (nil, AdminOutcome(.invalidTopicException, reason)) }
        guard let topic = topic(named: name) else {
            return (nil, AdminOutcome(.unknownTopicOrPartition, "The topic '\(name)' does not exist."))
        }
        return (topic, .success)
    }
}

extension TopicManager {
    /// The most partitions portaskd creates for one topic (as `validateCreation` enforces).
    static let maximumPartitions = 100_000
}
