/// Kafka's listener security protocols (`listener.security.protocol.map` values). Thread-safe.
public enum SecurityProtocol: String, Sendable, CaseIterable {
    case plaintext = "PLAINTEXT"
    case ssl = "SSL"
    case saslPlaintext = "SASL_PLAINTEXT"
    case saslSsl = "SASL_SSL"

    /// Whether connections are wrapped in TLS.
    public var usesTLS: Bool { self == .ssl || self == .saslSsl }
    /// Whether clients authenticate with SASL before any other request.
    public var usesSASL: Bool { self == .saslPlaintext || self == .saslSsl }

    /// Parses Kafka's `listener.security.protocol.map` (`NAME:PROTOCOL,…`); names are upper-cased as Kafka does.
    public static func parseMap(_ text: String) throws -> [String: SecurityProtocol] {
        var map: [String: SecurityProtocol] = [:]
        for entry in text.split(separator: ",") {
            let parts = entry.split(separator: ":", maxSplits: 1).map { $0.trimmingWhitespace() }
            guard parts.count == 2, !parts[0].isEmpty else {
                throw BrokerError(.configuration, "Invalid value \(text) for configuration listener.security.protocol.map: Map entry '\(entry)' is not of the form NAME:PROTOCOL")
            }
            guard let value = SecurityProtocol(rawValue: parts[1].uppercased()) else {
                throw BrokerError(.configuration, "No enum constant org.apache.kafka.common.security.auth.SecurityProtocol.\(parts[1])")
            }
            map[parts[0].uppercased()] = value
        }
        return map
    }
}
