import Histogram

/// The measured outcome of a produce or consume run.
/// A value type; safe to share.
struct RunResult: Sendable {
    var messages: Int
    /// Message value bytes (produce: messages × message size; consume: record batch bytes received).
    var payloadBytes: Int
    /// Record batch bytes as sent or received on the wire (after compression).
    var wireBytes: Int
    var seconds: Double
    /// Nanoseconds: per message creation → ack (produce), per request → response (consume).
    var latency: Histogram<UInt64>
    var requests: Int

    var messagesPerSecond: Double { seconds > 0 ? Double(messages) / seconds : 0 }
    /// Megabytes (10^6 bytes) of payload per second.
    var megabytesPerSecond: Double { seconds > 0 ? Double(payloadBytes) / seconds / 1e6 : 0 }

    func percentileMs(_ percentile: Double) -> Double {
        latency.totalCount == 0 ? 0 : Double(latency.valueAtPercentile(percentile)) / 1e6
    }

    /// A human summary, one line per figure.
    func summary(kind: String) -> String {
        func format(_ value: Double, _ digits: Int = 1) -> String {
            if digits == 0 { return String(Int(value.rounded())) }
            let scale = pow10(digits)
            return String(Double((value * scale).rounded()) / scale)
        }
        let latencyName = kind == "produce" ? "ack latency" : "fetch latency"
        return """
            \(kind): \(messages) messages, \(payloadBytes) bytes (\(wireBytes) on the wire) in \(format(seconds, 3)) s
            \(kind): \(format(messagesPerSecond, 0)) msgs/s, \(format(megabytesPerSecond, 1)) MB/s
            \(latencyName) ms: p50 \(format(percentileMs(50), 3)) p90 \(format(percentileMs(90), 3)) \
            p99 \(format(percentileMs(99), 3)) p99.9 \(format(percentileMs(99.9), 3)) \
            max \(format(Double(latency.max) / 1e6, 3))
            """
    }

    /// One JSON object with every figure (for scripts).
    func json(kind: String) -> String {
        let fields: [(String, String)] = [
            ("kind", "\"\(kind)\""), ("messages", "\(messages)"), ("bytes", "\(payloadBytes)"),
            ("wire_bytes", "\(wireBytes)"), ("seconds", "\(seconds)"),
            ("msgs_per_sec", "\(messagesPerSecond)"), ("mb_per_sec", "\(megabytesPerSecond)"),
            ("requests", "\(requests)"),
            ("latency_p50_ms", "\(percentileMs(50))"), ("latency_p90_ms", "\(percentileMs(90))"),
            ("latency_p99_ms", "\(percentileMs(99))"), ("latency_p999_ms", "\(percentileMs(99.9))"),
            ("latency_max_ms", "\(Double(latency.max) / 1e6)"),
        ]
        return "{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}"
    }

    private func pow10(_ digits: Int) -> Double {
        (0..<digits).reduce(1.0) { value, _ in value * 10 }
    }
}
