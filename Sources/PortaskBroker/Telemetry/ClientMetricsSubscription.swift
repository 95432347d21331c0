import Foundation

/// One client-metrics subscription, Kafka's CLIENT_METRICS config resource (KIP-714): the metric name prefixes
/// it asks for (`metrics`, `*` for all), the push interval (`interval.ms`, 100 ms – 1 hour, default 5 minutes)
/// and the clients it applies to (`match`: `selector=regex` entries over client_instance_id, client_id,
/// client_software_name, client_software_version, client_source_address and client_source_port, each regex
/// matching the whole value; no entries match every client). A value; thread-safe.
struct ClientMetricsSubscription: Sendable {
    static let metricsKey = "metrics"
    static let intervalKey = "interval.ms"
    static let matchKey = "match"
    static let keys: [String] = [metricsKey, intervalKey, matchKey]
    static let allMetrics = "*"
    static let defaultIntervalMs: Int32 = 300_000
    static let intervals: ClosedRange<Int32> = 100...3_600_000
    static let selectors: Set<String> = [
        "client_instance_id", "client_id", "client_software_name", "client_software_version",
        "client_source_address", "client_source_port",
    ]

    let name: String
    /// The configs as set (Kafka describes only those).
    let configs: [String: String]
    let metrics: [String]
    let intervalMs: Int32
    let match: [ClientSelector]

    /// One `match` entry: a selector and its regex, anchored at both ends (compiled once; immutable, and
    /// NSRegularExpression is safe to use from several threads).
    struct ClientSelector: @unchecked Sendable {
        let name: String
        let pattern: NSRegularExpression
    }

    /// The subscription of `configs`, or Kafka's error (INVALID_REQUEST or INVALID_CONFIG) with its message.
    static func validated(name: String, configs: [String: String]) -> Result<ClientMetricsSubscription, AdminOutcome> {
        if name.isEmpty { return .failure(AdminOutcome(.invalidRequest, "Subscription name can't be empty")) }
        for key in configs.keys.sorted() where !keys.contains(key) {
            return .failure(AdminOutcome(.invalidRequest, "Unknown client metrics configuration: \(key)"))
        }
        var interval = defaultIntervalMs
        if let text = configs[intervalKey] {
            guard let parsed = Int32(text.trimmingCharacters(in: .whitespaces)) else {
                return .failure(AdminOutcome(.invalidConfig,
                    "Invalid value \(text) for configuration \(intervalKey): Not a number of type INT"))
            }
            guard intervals.contains(parsed) else {
                return .failure(AdminOutcome(.invalidRequest,
                    "Invalid value \(parsed) for \(intervalKey), interval must be between 100 and 3600000 (1 hour)"))
            }
            interval = parsed
        }
        var match: [ClientSelector] = []
        for entry in listItems(configs[matchKey] ?? "") {
            let parts = entry.split(separator: "=", omittingEmptySubsequences: false)
            let illegal = AdminOutcome(.invalidConfig, "Illegal client matching pattern: \(entry)")
            guard parts.count == 2 else { return .failure(illegal) }
            let selector = parts[0].trimmingCharacters(in: .whitespaces)
            let regex = parts[1].trimmingCharacters(in: .whitespaces)
            // Java's `matches()`: the whole value, so the pattern is checked alone, then anchored at both ends.
            guard selectors.contains(selector), (try? NSRegularExpression(pattern: regex)) != nil,
                  let pattern = try? NSRegularExpression(pattern: "\\A(?:" + regex + ")\\z")
            else { return .failure(illegal) }
            match.removeAll { $0.name == selector }
            match.append(ClientSelector(name: selector, pattern: pattern))
        }
        return .success(ClientMetricsSubscription(
            name: name, configs: configs, metrics: listItems(configs[metricsKey] ?? ""), intervalMs: interval, match: match))
    }

    /// Kafka's LIST parsing: comma-separated, trimmed, empty items dropped.
    static func listItems(_ value: String) -> [String] {
        value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// Whether a client with these selector values is subscribed (every pattern matches its whole value).
    func matches(_ client: [String: String]) -> Bool {
        match.allSatisfy { selector in
            guard let value = client[selector.name] else { return false }
            return selector.pattern.firstMatch(in: value, range: NSRange(value.startIndex..., in: value)) != nil
        }
    }
}

/// Lets validation hand back Kafka's error for a subscription in a `Result`.
extension AdminOutcome: Error {}
