/// The security settings of one listener, resolved from Kafka-named properties with per-listener overrides
/// (`listener.name.<name>.<property>` over `<property>`, the name lower-cased as Kafka writes it).
/// A value; thread-safe.
public struct ListenerSecurity: Sendable {
    /// How `ssl.client.auth` asks for client certificates.
    public enum ClientAuth: String, Sendable {
        case none, requested, required
    }

    public var listenerName: String
    public var securityProtocol: SecurityProtocol
    /// The listener's effective `ssl.*` properties (with overrides applied), by unprefixed name.
    public var ssl: [String: String]
    public var clientAuth: ClientAuth
    /// `sasl.enabled.mechanisms` of the listener, upper-cased.
    public var saslMechanisms: [String]
    /// Users and passwords for SASL/PLAIN from the listener's `plain.sasl.jaas.config`.
    public var plainUsers: [String: String]
    /// OAUTHBEARER's token validation: unsecured tokens with the options of the listener's
    /// `oauthbearer.sasl.jaas.config`, or signed JWTs when `sasl.oauthbearer.jwks.endpoint.url` is set.
    var oauthBearer: (any OAuthBearerTokenValidator)?
    /// `connections.max.reauth.ms` (KIP-368) by enabled mechanism: the longest session before the client must
    /// re-authenticate; 0 leaves sessions unbounded (unless the credential itself expires, as tokens do).
    public var maxReauthMs: [String: Int64] = [:]

    /// The mechanisms portaskd serves.
    public static let supportedMechanisms: Set<String> = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"]

    public init(listenerName: String, securityProtocol: SecurityProtocol, properties: [String: String]) throws {
        self.listenerName = listenerName
        self.securityProtocol = securityProtocol
        let prefix = "listener.name.\(listenerName.lowercased())."
        func value(_ name: String) -> String? {
            (properties[prefix + name] ?? properties[name] ?? BrokerConfigDefinition.byName[name]?.defaultValue)?
                .trimmingWhitespace()
        }
        var ssl: [String: String] = [:]
        for name in BrokerConfigDefinition.all.map(\.name) where name.hasPrefix("ssl.") {
            if let found = value(name) { ssl[name] = found }
        }
        self.ssl = ssl
        let auth = (ssl["ssl.client.auth"] ?? "none").lowercased()
        guard let clientAuth = ClientAuth(rawValue: auth) else {
            throw BrokerError(.configuration, "Invalid value \(auth) for configuration ssl.client.auth: String must be one of: required, requested, none")
        }
        self.clientAuth = clientAuth
        saslMechanisms = (value("sasl.enabled.mechanisms") ?? "").split(separator: ",")
            .map { $0.trimmingWhitespace().uppercased() }.filter { !$0.isEmpty }
        plainUsers = [:]
        guard securityProtocol.usesSASL else { return }
        for mechanism in saslMechanisms {
            // Kafka's precedence: listener and mechanism prefix, listener prefix, then the plain property.
            let name = "connections.max.reauth.ms"
            let text = properties[prefix + mechanism.lowercased() + "." + name] ?? value(name) ?? "0"
            guard let milliseconds = Int64(text.trimmingWhitespace()) else {
                throw BrokerError(.configuration, "Invalid value \(text) for configuration \(name): Not a number of type LONG")
            }
            maxReauthMs[mechanism] = max(0, milliseconds)
        }
        if saslMechanisms.isEmpty {
            throw BrokerError(.configuration, "sasl.enabled.mechanisms must not be empty on SASL listener \(listenerName)")
        }
        for mechanism in saslMechanisms where !Self.supportedMechanisms.contains(mechanism) {
            throw BrokerError(
                .configuration,
                "SASL mechanism \(mechanism) of listener \(listenerName) is not supported (supported: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER)")
        }
        if saslMechanisms.contains("PLAIN") {
            let name = prefix + "plain.sasl.jaas.config"
            guard let jaas = properties[name] else {
                throw BrokerError(.configuration, "Could not find a '\(listenerName)' entry in the JAAS configuration: set \(name)")
            }
            let entry = try JaasConfig(parsing: jaas)
            for (option, password) in entry.options where option.hasPrefix("user_") {
                plainUsers[String(option.dropFirst("user_".count))] = password
            }
        }
        if saslMechanisms.contains("OAUTHBEARER") {
            let name = prefix + "oauthbearer.sasl.jaas.config"
            guard let jaas = properties[name] else {
                throw BrokerError(.configuration, "Could not find a '\(listenerName)' entry in the JAAS configuration: set \(name)")
            }
            let options = try JaasConfig(parsing: jaas).options
            // Kafka's lookup for mechanism settings: listener and mechanism prefix, listener prefix, plain name.
            func oauthValue(_ name: String) -> String? {
                (properties[prefix + "oauthbearer." + name] ?? value(name))?.trimmingWhitespace()
            }
            if let url = oauthValue("sasl.oauthbearer.jwks.endpoint.url"), !url.isEmpty {
                oauthBearer = try OAuthBearerJwtValidator(value: oauthValue)
            } else {
                oauthBearer = try OAuthBearerUnsecuredValidator(options: options)
            }
        }
    }
}
