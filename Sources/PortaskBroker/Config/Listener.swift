import Foundation

/// A Kafka listener such as `PLAINTEXT://127.0.0.1:9092`. Immutable; thread-safe.
public struct Listener: Sendable, Equatable, CustomStringConvertible {
    public var name: String
    public var host: String
    public var port: Int

    public init(name: String = "PLAINTEXT", host: String, port: Int) {
        self.name = name
        self.host = host
        self.port = port
    }

    /// Parses `NAME://host:port`; an empty host means every interface (0.0.0.0), and `[::1]` form is accepted.
    public init(parsing text: String) throws {
        let trimmed = text.trimmingWhitespace()
        guard let schemeEnd = trimmed.range(of: "://") else {
            throw BrokerError(.configuration, "listener '\(text)' is not of the form NAME://host:port")
        }
        let name = String(trimmed[..<schemeEnd.lowerBound])
        let address = trimmed[schemeEnd.upperBound...]
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
            (0...65535).contains(port)
        else {
            throw BrokerError(.configuration, "listener '\(text)' has no valid port")
        }
        var host = String(address[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.init(name: name, host: host.isEmpty ? "0.0.0.0" : host, port: port)
    }

    public var description: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "\(name)://\(shownHost):\(port)"
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        String(drop(while: { $0.isWhitespace }).reversed().drop(while: { $0.isWhitespace }).reversed())
    }
}
