import Foundation
import KafkaProtocol
import LogEngine
import NIOCore
import Testing
@testable import PortaskBroker

/// Client telemetry: subscriptions as Kafka validates them, GetTelemetrySubscriptions/PushTelemetry with
/// Kafka's errors, the bounded OTLP reader and the Prometheus export.
struct ClientTelemetryTests {
    // A minimal protobuf writer for OTLP fixtures.
    static func varint(_ value: UInt64) -> [UInt8] {
        var value = value
        var out: [UInt8] = []
        repeat {
            out.append(UInt8(value & 0x7F) | (value > 0x7F ? 0x80 : 0))
            value >>= 7
        } while value > 0
        return out
    }

    static func field(_ number: UInt64, _ bytes: [UInt8]) -> [UInt8] {
        varint(number << 3 | 2) + varint(UInt64(bytes.count)) + bytes
    }

    static func double(_ number: UInt64, _ value: Double) -> [UInt8] {
        var bits = value.bitPattern
        var out = varint(number << 3 | 1)
        for _ in 0..<8 {
            out.append(UInt8(bits & 0xFF))
            bits >>= 8
        }
        return out
    }

    static func attribute(_ key: String, _ value: String) -> [UInt8] {
        field(1, Array(key.utf8)) + field(2, field(1, Array(value.utf8)))
    }

    /// One resource with one gauge and one monotonic sum.
    static func payload(gauge: Double, counter: Double) -> [UInt8] {
        let gaugePoint = field(1, double(4, gauge) + field(7, attribute("node.id", "0")))
        let gaugeMetric = field(1, Array("org.apache.kafka.producer.record.queue.time.avg".utf8)) + field(5, gaugePoint)
        let temporality: [UInt8] = varint(2 << 3) + [2]
        let monotonic: [UInt8] = varint(3 << 3) + [1]
        let sum: [UInt8] = field(1, double(4, counter)) + temporality + monotonic
        let sumMetric = field(1, Array("org.apache.kafka.client.connection.creation.total".utf8)) + field(7, sum)
        let scope = field(2, gaugeMetric) + field(2, sumMetric)
        let resource = field(1, field(1, attribute("client_rack", "r1")))
        return field(1, resource + field(2, scope))
    }

    static let client = ClientTelemetry.Client(
        clientId: "app", softwareName: "librdkafka", softwareVersion: "2.16.0", address: "127.0.0.1", port: "5000")

    @Test func otlpDecoder_readsGaugesAndSums_andRefusesMalformedInput() throws {
        let points = try OtlpMetricsDecoder().decode(Self.payload(gauge: 1.5, counter: 7))
        #expect(points.count == 2)
        #expect(points[0].name == "org.apache.kafka.producer.record.queue.time.avg" && points[0].kind == .gauge)
        #expect(points[0].value == 1.5)
        #expect(points[0].attributes.map(\.key) == ["client_rack", "node.id"])
        #expect(points[1].kind == .counter && points[1].value == 7)
        // Truncations, a length beyond the message, an endless varint, a group wire type: errors, no trap.
        let whole = Self.payload(gauge: 1, counter: 2)
        for cut in 1..<whole.count {
            _ = try? OtlpMetricsDecoder().decode(Array(whole.prefix(cut)))
        }
        #expect(throws: ProtobufReader.Malformed.self) { try OtlpMetricsDecoder().decode([0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F]) }
        #expect(throws: ProtobufReader.Malformed.self) { try OtlpMetricsDecoder().decode([0x0A] + Array(repeating: 0xFF, count: 11)) }
        #expect(throws: ProtobufReader.Malformed.self) { try OtlpMetricsDecoder().decode([0x0B]) }
        var bounded = OtlpMetricsDecoder()
        bounded.maximumPoints = 1
        #expect(throws: ProtobufReader.Malformed.self) { try bounded.decode(whole) }
    }

    @Test func subscriptions_validateAsKafka() {
        func error(_ configs: [String: String], name: String = "s") -> AdminOutcome? {
            if case .failure(let outcome) = ClientMetricsSubscription.validated(name: name, configs: configs) { return outcome }
            return nil
        }
        #expect(error(["metrics": "*"]) == nil)
        #expect(error([:], name: "")?.message == "Subscription name can't be empty")
        #expect(error(["nope": "1"])?.message == "Unknown client metrics configuration: nope")
        #expect(error(["interval.ms": "50"])?.code == .invalidRequest)
        #expect(error(["interval.ms": "x"])?.code == .invalidConfig)
        #expect(error(["match": "client_id"])?.message == "Illegal client matching pattern: client_id")
        #expect(error(["match": "colour=red"])?.code == .invalidConfig)
        #expect(error(["match": "client_id=("])?.code == .invalidConfig)
        let subscription = try? ClientMetricsSubscription.validated(
            name: "s", configs: ["match": "client_id=ap.*,client_software_name=librdkafka"]).get()
        #expect(subscription?.matches(["client_id": "app", "client_software_name": "librdkafka"]) == true)
        #expect(subscription?.matches(["client_id": "xapp", "client_software_name": "librdkafka"]) == false)
        #expect(subscription?.matches(["client_id": "app"]) == false)
    }

    @Test func getAndPush_followKafkasRules() throws {
        let telemetry = ClientTelemetry(telemetryMaxBytes: 4096)
        let t0: Int64 = 1_000_000
        let store = try ClientMetricsStore(dataDirectory: nil) { telemetry.update($0) }
        // Without subscriptions: an instance id, no metrics, the default interval.
        let first = telemetry.getSubscriptions(GetTelemetrySubscriptionsRequest(), client: Self.client, nowMs: t0 + 1_000)
        #expect(first.errorCode == 0 && first.clientInstanceId != .zero && first.requestedMetrics.isEmpty)
        #expect(first.pushIntervalMs == 300_000 && first.acceptedCompressionTypes == [4, 3, 1, 2])
        let id = first.clientInstanceId
        // Again before the interval: throttled.
        let early = telemetry.getSubscriptions(GetTelemetrySubscriptionsRequest(clientInstanceId: id), client: Self.client, nowMs: t0 + 2_000)
        #expect(early.errorCode == KafkaErrorCode.throttlingQuotaExceeded.rawValue)
        // A new subscription is offered at once.
        #expect(store.alter(name: "all", changes: [
            .init(name: "metrics", operation: 0, value: "org.apache.kafka.producer., *"),
            .init(name: "interval.ms", operation: 0, value: "1000"),
        ], replace: false, validateOnly: false).isSuccess)
        let offered = telemetry.getSubscriptions(GetTelemetrySubscriptionsRequest(clientInstanceId: id), client: Self.client, nowMs: t0 + 2_100)
        #expect(offered.errorCode == 0 && offered.requestedMetrics == ["*"] && offered.pushIntervalMs == 1000)

        func push(_ subscription: Int32, nowMs: Int64, compression: Int8 = 0, payload: [UInt8]? = nil,
                  terminating: Bool = false) -> Int16 {
            var bytes = payload ?? Self.payload(gauge: 2.5, counter: 3)
            if let codec = CompressionCodec(rawValue: Int(compression)), codec != .none { bytes = (try? codec.compress(bytes)) ?? [] }
            return telemetry.push(PushTelemetryRequest(
                clientInstanceId: id, subscriptionId: subscription, terminating: terminating, compressionType: compression,
                metrics: ByteBuffer(bytes: bytes)), client: Self.client, nowMs: nowMs).errorCode
        }
        #expect(push(offered.subscriptionId &+ 1, nowMs: t0 + 2_200) == KafkaErrorCode.unknownSubscriptionId.rawValue)
        #expect(push(offered.subscriptionId, nowMs: t0 + 2_300) == KafkaErrorCode.throttlingQuotaExceeded.rawValue)
        #expect(push(offered.subscriptionId, nowMs: t0 + 3_300, compression: 4) == 0)
        let text = telemetry.renderPrometheus(nowMs: t0 + 3_400)
        #expect(text.contains("# TYPE org_apache_kafka_producer_record_queue_time_avg gauge"))
        #expect(text.contains("org_apache_kafka_producer_record_queue_time_avg{client_instance_id=\"\(id.kafkaString)\",client_id=\"app\",client_rack=\"r1\",node_id=\"0\"} 2.5"))
        #expect(text.contains("# TYPE org_apache_kafka_client_connection_creation_total counter"))
        #expect(push(offered.subscriptionId, nowMs: t0 + 4_400, compression: 7) == KafkaErrorCode.unsupportedCompressionType.rawValue)
        #expect(push(offered.subscriptionId, nowMs: t0 + 5_500, payload: Array(repeating: 1, count: 5000))
            == KafkaErrorCode.telemetryTooLarge.rawValue)
        #expect(push(offered.subscriptionId, nowMs: t0 + 6_600, payload: [0x0B]) == KafkaErrorCode.invalidRecord.rawValue)
        // A terminating push is accepted early; nothing after it.
        #expect(push(offered.subscriptionId, nowMs: t0 + 6_700, terminating: true) == 0)
        #expect(push(offered.subscriptionId, nowMs: t0 + 9_000) == KafkaErrorCode.invalidRequest.rawValue)
        let reserved = telemetry.push(PushTelemetryRequest(clientInstanceId: .zero), client: Self.client, nowMs: t0 + 9_000)
        #expect(reserved.errorCode == KafkaErrorCode.invalidRequest.rawValue)
    }

    @Test func store_altersIncrementallyAndPersists() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("portask-cm-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try ClientMetricsStore(dataDirectory: directory)
        #expect(store.alter(name: "s", changes: [.init(name: "metrics", operation: 2, value: "a,b")], replace: false, validateOnly: false).isSuccess)
        #expect(store.alter(name: "s", changes: [.init(name: "metrics", operation: 3, value: "a")], replace: false, validateOnly: false).isSuccess)
        #expect(store.alter(name: "s", changes: [.init(name: "interval.ms", operation: 2, value: "5")], replace: false, validateOnly: false).code == .invalidConfig)
        #expect(store.alter(name: "t", changes: [.init(name: "interval.ms", operation: 0, value: "500")], replace: false, validateOnly: true).isSuccess)
        #expect(try ClientMetricsStore(dataDirectory: directory).configs(of: "s") == ["metrics": "b"])
        #expect(try ClientMetricsStore(dataDirectory: directory).names == ["s"])
        #expect(store.alter(name: "s", changes: [.init(name: "metrics", operation: 1, value: nil)], replace: false, validateOnly: false).isSuccess)
        #expect(try ClientMetricsStore(dataDirectory: directory).names.isEmpty)
    }
}
