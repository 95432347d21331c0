import NIOSSL

/// What the connections of one listener need beyond plaintext defaults: the listener's name (Metadata answers
/// with its advertised address), its TLS context, SASL settings and the principal mapping of client
/// certificates. Built at start-up; immutable and thread-safe.
final class ListenerRuntime: Sendable {
    let security: ListenerSecurity
    let tls: NIOSSLContext?
    let principalMapper: SslPrincipalMapper
    let scramCredentials: ScramCredentialStore

    init(security: ListenerSecurity, scramCredentials: ScramCredentialStore) throws {
        self.security = security
        self.scramCredentials = scramCredentials
        tls = security.securityProtocol.usesTLS ? try TLSContextFactory.makeContext(for: security) : nil
        principalMapper = try SslPrincipalMapper(rules: security.ssl["ssl.principal.mapping.rules"] ?? "DEFAULT")
    }

    var name: String { security.listenerName }
}
