import Foundation
import KafkaProtocol
import LogEngine
import NIOConcurrencyHelpers

/// Client telemetry (KIP-714) as Kafka's `ClientMetricsManager` serves it: GetTelemetrySubscriptions gives a
/// client instance id and the subscribed metrics of the client-metrics subscriptions that match it (the union
/// of their metrics, `*` when one asks for all, the shortest push interval); PushTelemetry accepts the client's
/// OTLP metrics at that interval. Where Kafka hands pushed metrics to a plugin, Portask decodes them (bounded)
/// and exports each client's latest values on the Prometheus endpoint, labelled with the client instance id
/// and client id; a client asked for cumulative values (delta temporality off), as Prometheus wants them.
///
/// Kafka's errors: a request before the push interval is over gets THROTTLING_QUOTA_EXCEEDED (a push right
/// after a subscription fetch is accepted), an outdated subscription id UNKNOWN_SUBSCRIPTION_ID, an unknown
/// compression type UNSUPPORTED_COMPRESSION_TYPE, metrics over `telemetryMaxBytes` TELEMETRY_TOO_LARGE, a
/// reserved instance id or a push after a terminating one INVALID_REQUEST, undecodable metrics INVALID_RECORD.
/// Bounds: `maximumInstances` client instances (an instance expires max(60 s, 3 push intervals) after its last
/// request), `maximumSeries` exported values in all. Thread-safe: one lock over the state.
final class ClientTelemetry: Sendable {
    static let maximumInstances = 16_384
    static let maximumSeries = 100_000
    /// The bytes of names and attributes kept for export, in all.
    static let maximumRetainedBytes = 64 << 20
    static let minimumExpiryMs: Int64 = 60_000
    /// Kafka's accepted compression types, in its order of preference: zstd, lz4, gzip, snappy.
    static let acceptedCompressionTypes: [Int8] = [4, 3, 1, 2]
    static let maximumDecompressedBytes = 16 << 20

    /// What identifies a client to the `match` selectors of subscriptions.
    struct Client: Sendable {
        var clientId: String
        var softwareName: String
        var softwareVersion: String
        var address: String
        var port: String
    }

    struct Instance: Sendable {
        var client: Client
        var subscriptionId: Int32
        var subscriptionVersion: Int
        var metrics: [String]
        var intervalMs: Int32
        /// `Int64.min` until the first request of each kind.
        var lastGetMs: Int64 = .min
        var lastPushMs: Int64 = .min
        var lastSeenMs: Int64
        var terminating = false
        var points: [OtlpMetricsDecoder.Point] = []
    }

    private struct State {
        var subscriptions: [String: ClientMetricsSubscription] = [:]
        var version = 0
        var instances: [KafkaUUID: Instance] = [:]
        var series = 0
        var retainedBytes = 0

        mutating func release(_ points: [OtlpMetricsDecoder.Point]) {
            series -= points.count
            retainedBytes -= points.reduce(0) { $0 + $1.retainedBytes }
        }
    }

    let telemetryMaxBytes: Int32
    private let state = NIOLockedValueBox(State())

    init(telemetryMaxBytes: Int32 = 1_048_576) {
        self.telemetryMaxBytes = telemetryMaxBytes
    }

    /// Takes the subscriptions of the `ClientMetricsStore` (called on every change): instances are matched
    /// again on their next request.
    func update(_ subscriptions: [String: ClientMetricsSubscription]) {
        state.withLockedValue {
            $0.subscriptions = subscriptions
            $0.version += 1
        }
    }

    /// Whether a subscription exists (the broker then asks clients for metrics).
    var hasSubscriptions: Bool { state.withLockedValue { !$0.subscriptions.isEmpty } }

    func getSubscriptions(_ request: GetTelemetrySubscriptionsRequest, client: Client, nowMs: Int64) -> GetTelemetrySubscriptionsResponse {
        state.withLockedValue { state in
            var id = request.clientInstanceId
            if id == .zero {
                repeat { id = .random() } while state.instances[id] != nil
            }
            guard var instance = Self.instance(id, client: client, in: &state, nowMs: nowMs) else {
                return GetTelemetrySubscriptionsResponse(errorCode: KafkaErrorCode.throttlingQuotaExceeded.rawValue)
            }
            guard Self.elapsed(nowMs, since: max(instance.lastGetMs, instance.lastPushMs)) >= Int64(instance.intervalMs) else {
                state.instances[id] = instance
                return GetTelemetrySubscriptionsResponse(errorCode: KafkaErrorCode.throttlingQuotaExceeded.rawValue)
            }
            instance.lastGetMs = nowMs
            state.instances[id] = instance
            return GetTelemetrySubscriptionsResponse(
                errorCode: 0, clientInstanceId: id, subscriptionId: instance.subscriptionId,
                acceptedCompressionTypes: Self.acceptedCompressionTypes, pushIntervalMs: instance.intervalMs,
                telemetryMaxBytes: telemetryMaxBytes, deltaTemporality: false, requestedMetrics: instance.metrics)
        }
    }

    func push(_ request: PushTelemetryRequest, client: Client, nowMs: Int64) -> PushTelemetryResponse {
        let id = request.clientInstanceId
        guard id != .zero, id != KafkaUUID(high: 0, low: 1) else { return Self.failure(.invalidRequest) }
        let accepted: KafkaErrorCode = state.withLockedValue { state in
            guard var instance = Self.instance(id, client: client, in: &state, nowMs: nowMs) else {
                return .throttlingQuotaExceeded
            }
            defer {
                instance.terminating = instance.terminating || request.terminating
                state.instances[id] = instance
            }
            if instance.terminating { return .invalidRequest }
            let canAccept = instance.lastGetMs > instance.lastPushMs
                || Self.elapsed(nowMs, since: max(instance.lastGetMs, instance.lastPushMs)) >= Int64(instance.intervalMs)
            if canAccept { instance.lastPushMs = nowMs }
            if !canAccept && !request.terminating { return .throttlingQuotaExceeded }
            if request.subscriptionId != instance.subscriptionId { return .unknownSubscriptionId }
            if CompressionCodec(rawValue: Int(request.compressionType)) == nil { return .unsupportedCompressionType }
            if request.metrics.readableBytes > Int(telemetryMaxBytes) { return .telemetryTooLarge }
            return .noError
        }
        guard accepted == .noError else { return Self.failure(accepted) }
        guard request.metrics.readableBytes > 0 else { return PushTelemetryResponse() }
        let points: [OtlpMetricsDecoder.Point]
        do {
            points = try decode(request)
        } catch {
            return Self.failure(.invalidRecord)
        }
        state.withLockedValue { state in
            guard var instance = state.instances[id] else { return }
            state.release(instance.points)
            instance.points = []
            for point in points {
                let bytes = point.retainedBytes
                guard state.series < Self.maximumSeries, state.retainedBytes + bytes <= Self.maximumRetainedBytes else { break }
                instance.points.append(point)
                state.series += 1
                state.retainedBytes += bytes
            }
            state.instances[id] = instance
        }
        return PushTelemetryResponse()
    }

    private func decode(_ request: PushTelemetryRequest) throws -> [OtlpMetricsDecoder.Point] {
        let codec = CompressionCodec(rawValue: Int(request.compressionType)) ?? .none
        let raw = request.metrics.readableBytesView
        let bytes = try raw.withContiguousStorageIfAvailable {
            try codec.decompress(UnsafeRawBufferPointer($0), maxBytes: Self.maximumDecompressedBytes)
        } ?? codec.decompress(Array(raw), maxBytes: Self.maximumDecompressedBytes)
        return try OtlpMetricsDecoder().decode(bytes)
    }

    /// Milliseconds from `last` to `now`; the longest possible when there was no request yet.
    private static func elapsed(_ now: Int64, since last: Int64) -> Int64 {
        last == .min ? .max : now &- last
    }

    private static func failure(_ code: KafkaErrorCode) -> PushTelemetryResponse {
        PushTelemetryResponse(errorCode: code.rawValue)
    }

    /// The instance of `id`, created or matched again when the subscriptions changed since; nil when the
    /// instance table is full of live instances.
    private static func instance(_ id: KafkaUUID, client: Client, in state: inout State, nowMs: Int64) -> Instance? {
        if var known = state.instances[id] {
            known.lastSeenMs = nowMs
            guard known.subscriptionVersion < state.version else { return known }
            var renewed = makeInstance(id, client: known.client, state: state, nowMs: nowMs)
            renewed.points = known.points
            return renewed
        }
        if state.instances.count >= maximumInstances {
            expire(&state, nowMs: nowMs)
            guard state.instances.count < maximumInstances else { return nil }
        }
        return makeInstance(id, client: client, state: state, nowMs: nowMs)
    }

    private static func makeInstance(_ id: KafkaUUID, client: Client, state: State, nowMs: Int64) -> Instance {
        var selectors = [
            "client_instance_id": id.kafkaString, "client_id": client.clientId,
            "client_software_name": client.softwareName, "client_software_version": client.softwareVersion,
            "client_source_address": client.address, "client_source_port": client.port,
        ]
        selectors = selectors.filter { !$0.value.isEmpty }
        var interval = ClientMetricsSubscription.defaultIntervalMs
        var metrics = Set<String>()
        for subscription in state.subscriptions.values where subscription.matches(selectors) {
            metrics.formUnion(subscription.metrics)
            interval = min(interval, subscription.intervalMs)
        }
        if metrics.contains(ClientMetricsSubscription.allMetrics) { metrics = [ClientMetricsSubscription.allMetrics] }
        let sorted = metrics.sorted()
        let text = "[" + sorted.joined(separator: ", ") + "]" + String(interval)
        let crc = CRC32C.checksum(Array(text.utf8))
        let hash = id.high ^ id.low
        let subscriptionId = Int32(bitPattern: crc ^ UInt32(truncatingIfNeeded: hash >> 32) ^ UInt32(truncatingIfNeeded: hash))
        return Instance(
            client: client, subscriptionId: subscriptionId, subscriptionVersion: state.version, metrics: sorted,
            intervalMs: interval, lastSeenMs: nowMs)
    }

    private static func expire(_ state: inout State, nowMs: Int64) {
        for (id, instance) in state.instances
        where nowMs &- instance.lastSeenMs > max(minimumExpiryMs, 3 * Int64(instance.intervalMs)) {
            state.release(instance.points)
            state.instances.removeValue(forKey: id)
        }
    }

    /// The latest pushed values of every live client instance, in Prometheus text format: one family per OTLP
    /// metric name (dots and other characters outside `[a-zA-Z0-9_]` become `_`), labelled with
    /// `client_instance_id`, `client_id` and the metric's resource and point attributes.
    func renderPrometheus(nowMs: Int64) -> String {
        let instances = state.withLockedValue { state -> [(KafkaUUID, Instance)] in
            Self.expire(&state, nowMs: nowMs)
            return state.instances.filter { !$0.value.points.isEmpty }.sorted { $0.key.description < $1.key.description }
                .map { ($0.key, $0.value) }
        }
        var families: [String: (kind: OtlpMetricsDecoder.Kind, lines: [String])] = [:]
        for (id, instance) in instances {
            for point in instance.points {
                let name = Self.metricName(point.name)
                var labels = [("client_instance_id", id.kafkaString), ("client_id", instance.client.clientId)]
                for (key, value) in point.attributes {
                    let label = Self.labelName(key)
                    if !labels.contains(where: { $0.0 == label }) { labels.append((label, value)) }
                }
                let text = labels.map { "\($0.0)=\"\(Self.escape($0.1))\"" }.joined(separator: ",")
                families[name, default: (point.kind, [])].lines.append("\(name){\(text)} \(Self.format(point.value))")
            }
        }
        var output = ""
        for (name, family) in families.sorted(by: { $0.key < $1.key }) {
            output += "# TYPE \(name) \(family.kind == .counter ? "counter" : "gauge")\n"
            output += family.lines.joined(separator: "\n") + "\n"
        }
        return output
    }

    static func metricName(_ name: String) -> String {
        let sanitized = String(name.unicodeScalars.map { scalar -> Character in
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "_" || scalar == ":")
                ? Character(scalar) : "_"
        })
        return sanitized.first?.isNumber ?? true ? "_" + sanitized : sanitized
    }

    static func labelName(_ name: String) -> String {
        metricName(name).replacingOccurrences(of: ":", with: "_")
    }

    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        return value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}

extension KafkaUUID {
    /// Kafka's text form of a UUID: URL-safe base64 of its 16 bytes, without padding.
    var kafkaString: String {
        var bytes: [UInt8] = []
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: high >> UInt64(shift))) }
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: low >> UInt64(shift))) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
