/// A client quota entity as Kafka names it: entity types (`user`, `client-id`, `ip`) each with a name, or `nil`
/// for the type's default entity. A value type; thread-safe.
struct ClientQuotaEntity: Hashable, Codable, Sendable {
    static let user = "user"
    static let clientId = "client-id"
    static let ip = "ip"

    /// Entity type to name (`nil`: the default entity of that type).
    var components: [String: String?]

    /// The quota keys Kafka accepts for a user and/or client-id entity, with whether their value must be whole.
    static let userAndClientKeys: [String: Bool] = [
        "producer_byte_rate": true, "consumer_byte_rate": true, "request_percentage": false,
        "controller_mutation_rate": false,
    ]
    /// The quota keys of an ip entity.
    static let ipKeys: [String: Bool] = ["connection_creation_rate": true]

    /// Kafka's validation of an entity to alter: known types, each once, no empty names, ip alone. Returns the
    /// entity and the quota keys it accepts, or the INVALID_REQUEST message.
    static func validated(_ entries: [(type: String, name: String?)]) -> Result<(ClientQuotaEntity, [String: Bool]), QuotaError> {
        guard !entries.isEmpty else { return .failure(QuotaError("Invalid empty client quota entity")) }
        var components: [String: String?] = [:]
        for (type, name) in entries {
            if components.keys.contains(type) {
                return .failure(QuotaError("Invalid client quota entity, duplicate entity entry \(type)"))
            }
            guard [user, clientId, ip].contains(type) else {
                return .failure(QuotaError("Unhandled client quota entity type: \(type)"))
            }
            if let name, name.isEmpty { return .failure(QuotaError("Empty \(type) not supported")) }
            components[type] = .some(name)
        }
        if components.keys.contains(ip) {
            guard components.count == 1 else {
                return .failure(QuotaError(
                    "Invalid quota entity combination, IP entity shouldnot be combined with User or ClientId"))
            }
            if case .some(.some(let address)) = components[ip], !isIPAddress(address) {
                return .failure(QuotaError("\(address) is not a valid IP or resolvable host."))
            }
            return .success((ClientQuotaEntity(components: components), ipKeys))
        }
        return .success((ClientQuotaEntity(components: components), userAndClientKeys))
    }

    /// Whether `text` is an IPv4 or IPv6 literal (host names are not resolved here).
    static func isIPAddress(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 4, parts.allSatisfy({ UInt8($0) != nil }) { return true }
        return text.contains(":") && text.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
    }
}

/// An INVALID_REQUEST of the client quota APIs, with Kafka's message.
struct QuotaError: Error, Equatable {
    var message: String
    init(_ message: String) { self.message = message }
}
