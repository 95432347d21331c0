import Foundation

/// One etcd client URL, `http://host:port` or `host:port`. Only plain HTTP is supported. Value type, `Sendable`.
public struct EtcdEndpoint: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `http://host:port`, `host:port` or `[v6addr]:port`; nil when it is not of that form.
    public init?(parsing text: String) {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        if rest.hasPrefix("http://") { rest = rest.dropFirst("http://".count) }
        while rest.hasSuffix("/") { rest = rest.dropLast() }
        guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]),
            (1...65535).contains(port)
        else { return nil }
        var host = rest[..<colon]
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        guard !host.isEmpty, !host.contains("/") else { return nil }
        self.init(host: String(host), port: port)
    }

    /// Parses a comma-separated list (Kafka-style property value); nil when any entry is malformed or none is given.
    public static func parseList(_ text: String) -> [EtcdEndpoint]? {
        let parts = text.split(separator: ",").map { String($0) }.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        guard !parts.isEmpty else { return nil }
        var endpoints: [EtcdEndpoint] = []
        for part in parts {
            guard let endpoint = EtcdEndpoint(parsing: part) else { return nil }
            endpoints.append(endpoint)
        }
        return endpoints
    }

    public var description: String { host.contains(":") ? "http://[\(host)]:\(port)" : "http://\(host):\(port)" }
}
