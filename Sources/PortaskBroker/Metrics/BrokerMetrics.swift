import Atomics
import CoreMetrics
import KafkaProtocol
import LogEngine
import Prometheus

/// The broker's metrics, kept in a Prometheus registry and exported in its text format.
///
/// | name | type | labels |
/// | --- | --- | --- |
/// | `portask_requests_total` | counter | `api` |
/// | `portask_request_duration_seconds` | histogram | `api` |
/// | `portask_request_errors_total` | counter | `api` (requests that closed the connection) |
/// | `portask_network_bytes_in_total`, `portask_network_bytes_out_total` | counter | |
/// | `portask_connections` | gauge (open now) | |
/// | `portask_connections_accepted_total` | counter | |
/// | `portask_refusals_total` | counter | `cause` (limits and budgets that refused a connection or request) |
/// | `portask_reauthentications_total` | counter | (successful SASL re-authentications, KIP-368) |
/// | `portask_quota_throttle_time_ms_total`, `portask_quota_throttled_requests_total` | counter | `type` (`produce`, `fetch`, `request`) |
/// | `portask_partition_log_size_bytes`, `portask_partition_log_start_offset`, `portask_partition_log_end_offset` | gauge | `topic`, `partition` |
///
/// Thread-safe: the swift-metrics handlers are atomic; per-API instruments are created once at start-up.
public final class BrokerMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let requests: [ApiKey: CoreMetrics.Counter]
    private let errors: [ApiKey: CoreMetrics.Counter]
    private let durations: [ApiKey: CoreMetrics.Timer]
    let bytesIn: CoreMetrics.Counter
    let bytesOut: CoreMetrics.Counter
    let connections: CoreMetrics.Gauge
    let connectionsAccepted: CoreMetrics.Counter
    private let openConnections = ManagedAtomic<Int>(0)
    private let refusals: [RefusalCause: CoreMetrics.Counter]
    private let reauthentications: CoreMetrics.Counter
    private let throttleTime: [String: CoreMetrics.Counter]
    private let throttled: [String: CoreMetrics.Counter]

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5), .seconds(30),
        ]
        var requests: [ApiKey: CoreMetrics.Counter] = [:]
        var errors: [ApiKey: CoreMetrics.Counter] = [:]
        var durations: [ApiKey: CoreMetrics.Timer] = [:]
        for key in ApiKey.allCases where key.listeners.contains("broker") {
            let dimensions = [("api", key.name)]
            requests[key] = Counter(label: "portask_requests_total", dimensions: dimensions, factory: factory)
            errors[key] = Counter(label: "portask_request_errors_total", dimensions: dimensions, factory: factory)
            durations[key] = Timer(label: "portask_request_duration_seconds", dimensions: dimensions, factory: factory)
        }
        self.requests = requests
        self.errors = errors
        self.durations = durations
        bytesIn = Counter(label: "portask_network_bytes_in_total", factory: factory)
        bytesOut = Counter(label: "portask_network_bytes_out_total", factory: factory)
        connections = Gauge(label: "portask_connections", factory: factory)
        connectionsAccepted = Counter(label: "portask_connections_accepted_total", factory: factory)
        throttleTime = Dictionary(uniqueKeysWithValues: ["produce", "fetch", "request"].map {
            ($0, Counter(label: "portask_quota_throttle_time_ms_total", dimensions: [("type", $0)], factory: factory))
        })
        throttled = Dictionary(uniqueKeysWithValues: ["produce", "fetch", "request"].map {
            ($0, Counter(label: "portask_quota_throttled_requests_total", dimensions: [("type", $0)], factory: factory))
        })
        reauthentications = Counter(label: "portask_reauthentications_total", factory: factory)
        refusals = Dictionary(uniqueKeysWithValues: RefusalCause.allCases.map {
            ($0, Counter(label: "portask_refusals_total", dimensions: [("cause", $0.rawValue)], factory: factory))
        })
    }

    /// Counts one request throttled by a client quota of `type` for `milliseconds`.
    func recordThrottle(_ type: String, milliseconds: Int) {
        throttleTime[type]?.increment(by: milliseconds)
        throttled[type]?.increment()
    }

    /// Counts one refusal by a limit or budget.
    func recordRefusal(_ cause: RefusalCause) {
        refusals[cause]?.increment()
    }

    /// Counts one successful SASL re-authentication.
    func recordReauthentication() {
        reauthentications.increment()
    }

    /// Records one answered request of `apiKey` that took `nanoseconds`.
    func recordRequest(_ apiKey: ApiKey, nanoseconds: Int64) {
        requests[apiKey]?.increment()
        durations[apiKey]?.recordNanoseconds(nanoseconds)
    }

    func connectionOpened() {
        connectionsAccepted.increment()
        connections.record(openConnections.wrappingIncrementThenLoad(ordering: .relaxed))
    }

    func connectionClosed() {
        connections.record(openConnections.wrappingDecrementThenLoad(ordering: .relaxed))
    }

    func recordFailure(_ apiKey: ApiKey) {
        errors[apiKey]?.increment()
    }

    /// The registry's metrics plus the partition gauges, in Prometheus text format.
    public func exposition(topics: TopicManager?) -> String {
        var text = registry.emitToString()
        guard let topics else { return text }
        let partitions = topics.logs.allLogs.sorted { $0.key < $1.key }
        let families: [(String, String, (LogEngine.PartitionLog) -> Int64)] = [
            ("portask_partition_log_size_bytes", "Bytes stored in the partition's segments.", { Int64($0.sizeInBytes) }),
            ("portask_partition_log_start_offset", "First readable offset of the partition.", { $0.logStartOffset }),
            ("portask_partition_log_end_offset", "Offset the next record of the partition gets.", { $0.logEndOffset }),
        ]
        for (name, help, value) in families {
            text += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n"
            for (partition, log) in partitions {
                text += "\(name){topic=\"\(partition.topic)\",partition=\"\(partition.partition)\"} \(value(log))\n"
            }
        }
        text += Self.cleanerExposition(topics.logs)
        return text
    }

    /// The log cleaner's figures: totals, and per compacted partition its dirty ratio, cleaner lag (dirty
    /// cleanable bytes) and the time of its last clean.
    static func cleanerExposition(_ logs: LogManager) -> String {
        let totals = logs.cleanerTotals
        var text = ""
        let counters: [(String, String, Int)] = [
            ("portask_log_cleaner_rounds_total", "Cleaning rounds completed.", totals.rounds),
            ("portask_log_cleaner_failures_total", "Cleaning rounds that failed (the partition is skipped until restart).",
             totals.failures),
            ("portask_log_cleaner_bytes_read_total", "Bytes the cleaner read.", totals.bytesRead),
            ("portask_log_cleaner_bytes_written_total", "Bytes the cleaner wrote.", totals.bytesWritten),
        ]
        for (name, help, value) in counters {
            text += "# HELP \(name) \(help)\n# TYPE \(name) counter\n\(name) \(value)\n"
        }
        text += "# HELP portask_log_cleaner_last_round_seconds Duration of the last cleaning round.\n"
            + "# TYPE portask_log_cleaner_last_round_seconds gauge\n"
            + "portask_log_cleaner_last_round_seconds \(Double(totals.lastRoundMs) / 1000)\n"
        let compacted = logs.compactedLogs().sorted { $0.partition < $1.partition }
        let families: [(String, String, (LogManager.LogToClean) -> String)] = [
            ("portask_partition_dirty_ratio", "Share of a compacted partition's bytes not yet cleaned.",
             { "\($0.dirtyRatio)" }),
            ("portask_partition_cleaner_lag_bytes", "Cleanable bytes of a compacted partition not yet cleaned.",
             { "\($0.cleanableBytes)" }),
            ("portask_partition_last_clean_timestamp_seconds", "When the partition was last cleaned (0: never).",
             { "\(Double(totals.lastCleanMs[$0.partition] ?? 0) / 1000)" }),
        ]
        for (name, help, value) in families {
            text += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n"
            for entry in compacted {
                text += "\(name){topic=\"\(entry.partition.topic)\",partition=\"\(entry.partition.partition)\"} "
                    + "\(value(entry))\n"
            }
        }
        return text
    }
}
