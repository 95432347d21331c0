import KafkaProtocol
import NIOCore

/// The SASL authentication of one connection on a SASL listener, as Kafka's SaslServerAuthenticator runs it:
/// ApiVersions and SaslHandshake (v0–1) first, then the mechanism's tokens in SaslAuthenticate requests (after a
/// v1 handshake) or as bare length-prefixed frames (after a v0 handshake). No other request is accepted before
/// the exchange completes: one closes the connection. A failed exchange answers SASL_AUTHENTICATION_FAILED
/// (unframed: nothing) and the connection closes after the answer.
///
/// Sessions (KIP-368): on completion the session lifetime is `connections.max.reauth.ms` of the mechanism,
/// bounded by the credential's own expiry (a token's `exp`), and is told to the client in SaslAuthenticate v1+.
/// Once the session has expired, the connection closes at its next request unless that request is a SaslHandshake
/// (v1+) beginning re-authentication: the same mechanism and the same principal must then authenticate again
/// (anything else fails with SASL_AUTHENTICATION_FAILED and closes), at most once a second, and a new session
/// starts. Event-loop confined.
final class SaslServerSession {
    /// What the connection does with a frame received before authentication completed.
    enum Step {
        /// Serve the request as usual (ApiVersions).
        case route(KafkaRequest)
        /// Write these parts; close the connection afterwards when `thenClose`.
        case respond([IOData], thenClose: Bool)
        /// Close the connection at once.
        case close(String)
    }

    private enum State {
        case handshake
        case authenticate(SaslMechanismServer, mechanism: String)
        case unframedAuthenticate(SaslMechanismServer, mechanism: String)
        case complete
    }

    private let security: ListenerSecurity
    private let scramCredentials: ScramCredentialStore
    /// Milliseconds since the epoch (a token's expiry is given in wall-clock time).
    private let wallClockMs: @Sendable () -> Int64
    private var state = State.handshake
    /// The principal once authentication succeeded.
    private(set) var principal: KafkaPrincipal?
    /// The mechanism that failed last, for the broker's log.
    private(set) var failure: String?
    /// The mechanism of the authenticated session.
    private var sessionMechanism: String?
    /// When the session ends; nil when it does not.
    private(set) var sessionExpiration: NIODeadline?
    /// The session before the re-authentication in progress: its mechanism and principal must not change.
    private var previous: (mechanism: String, principal: KafkaPrincipal)?
    private var lastReauthenticationStart: NIODeadline?
    /// Whether the exchange in progress (or the last one) re-authenticates a session.
    var isReauthenticating: Bool { previous != nil }

    /// Kafka's smallest interval between two re-authentications of a connection.
    static let minimumReauthenticationInterval = TimeAmount.seconds(1)
    /// Session lifetimes are capped (ten years) so that deadlines cannot overflow.
    static let maximumSessionLifetimeMs: Int64 = 315_360_000_000

    init(
        security: ListenerSecurity, scramCredentials: ScramCredentialStore,
        wallClockMs: @escaping @Sendable () -> Int64 = OAuthBearerSaslServer.nowMs
    ) {
        self.security = security
        self.scramCredentials = scramCredentials
        self.wallClockMs = wallClockMs
    }

    var isAuthenticated: Bool { if case .complete = state { true } else { false } }

    /// Whether the authenticated session has expired at `now`.
    func isExpired(at now: NIODeadline) -> Bool {
        guard isAuthenticated, let sessionExpiration else { return false }
        return now > sessionExpiration
    }

    /// Begins re-authentication when `frame`, received on the authenticated connection, is a SaslHandshake v1+,
    /// the session has a lifetime and the last re-authentication began at least a second ago; the caller then
    /// passes the frame to ``receive(_:)``. False leaves the frame to the usual handlers.
    func beginReauthentication(_ frame: ByteBuffer, now: NIODeadline) -> Bool {
        guard isAuthenticated, sessionExpiration != nil, let principal, let sessionMechanism,
              frame.getInteger(at: frame.readerIndex, as: Int16.self) == ApiKey.saslHandshake.rawValue,
              let version = frame.getInteger(at: frame.readerIndex + 2, as: Int16.self), version >= 1
        else { return false }
        if let last = lastReauthenticationStart, now - last < Self.minimumReauthenticationInterval { return false }
        lastReauthenticationStart = now
        previous = (sessionMechanism, principal)
        state = .handshake
        return true
    }

    func receive(_ frame: ByteBuffer) -> Step {
        switch state {
        case .complete:
            return .close("SASL frame after authentication")
        case .unframedAuthenticate(let server, let mechanism):
            let token = Array(frame.readableBytesView)
            do {
                let answer = try server.evaluate(token)
                _ = try finishIfComplete(server, mechanism: mechanism)
                var buffer = ByteBuffer()
                buffer.writeInteger(Int32(truncatingIfNeeded: answer.count))
                buffer.writeBytes(answer)
                return .respond([.byteBuffer(buffer)], thenClose: false)
            } catch {
                failure = "\(mechanism): \(error.message)"
                return .close("SASL authentication failed (\(mechanism)): \(error.message)")
            }
        case .handshake, .authenticate:
            let request: KafkaRequest
            do {
                request = try KafkaRequest.decode(frame: frame)
            } catch {
                return .close("invalid request during SASL authentication: \(error)")
            }
            return receive(request)
        }
    }

    private func receive(_ request: KafkaRequest) -> Step {
        let version = request.header.apiVersion
        let correlationId = request.header.correlationId
        switch (state, request.body) {
        case (.handshake, is ApiVersionsRequest):
            return .route(request)
        case (.handshake, let handshake as SaslHandshakeRequest):
            let mechanisms = security.saslMechanisms
            guard mechanisms.contains(handshake.mechanism), let server = makeServer(handshake.mechanism) else {
                failure = "unsupported mechanism \(handshake.mechanism)"
                return respond(
                    SaslHandshakeResponse(errorCode: KafkaErrorCode.unsupportedSaslMechanism.rawValue, mechanisms: mechanisms),
                    version: version, correlationId: correlationId, thenClose: true)
            }
            if let previous, previous.mechanism != handshake.mechanism {
                // Kafka answers the handshake and fails the exchange that follows.
                state = .authenticate(
                    RefusingSaslServer(message: "SASL mechanism '\(handshake.mechanism)' requested by client is not "
                        + "supported for re-authentication of mechanism '\(previous.mechanism)'"),
                    mechanism: handshake.mechanism)
            } else {
                state = version == 0
                    ? .unframedAuthenticate(server, mechanism: handshake.mechanism)
                    : .authenticate(server, mechanism: handshake.mechanism)
            }
            return respond(
                SaslHandshakeResponse(errorCode: KafkaErrorCode.noError.rawValue, mechanisms: mechanisms),
                version: version, correlationId: correlationId, thenClose: false)
        case (.authenticate(let server, let mechanism), let authenticate as SaslAuthenticateRequest):
            do {
                let answer = try server.evaluate(Array(authenticate.authBytes.readableBytesView))
                let lifetimeMs = try finishIfComplete(server, mechanism: mechanism)
                return respond(
                    SaslAuthenticateResponse(
                        errorCode: KafkaErrorCode.noError.rawValue, errorMessage: nil, authBytes: ByteBuffer(bytes: answer),
                        sessionLifetimeMs: lifetimeMs),
                    version: version, correlationId: correlationId, thenClose: false)
            } catch {
                failure = "\(mechanism): \(error.message)"
                return respond(
                    SaslAuthenticateResponse(
                        errorCode: KafkaErrorCode.saslAuthenticationFailed.rawValue, errorMessage: error.message,
                        authBytes: ByteBuffer(), sessionLifetimeMs: 0),
                    version: version, correlationId: correlationId, thenClose: true)
            }
        case (.handshake, _):
            return .close("Unexpected Kafka request of type \(request.apiKey.name) during SASL handshake")
        default:
            return .close("Unexpected Kafka request of type \(request.apiKey.name) during SASL authentication")
        }
    }

    /// Completes the session when the mechanism has; returns the session lifetime to tell the client (0: none
    /// or not complete yet). Throws when re-authentication names another principal.
    private func finishIfComplete(_ server: SaslMechanismServer, mechanism: String) throws(SaslFailure) -> Int64 {
        guard server.isComplete, let user = server.authenticatedUser else { return 0 }
        let authenticated = KafkaPrincipal(name: user)
        if let previous, previous.principal != authenticated {
            throw SaslFailure(message: "Cannot change principals during re-authentication from "
                + "\(previous.principal.type).\(previous.principal.name): \(authenticated.type).\(authenticated.name)")
        }
        state = .complete
        principal = authenticated
        sessionMechanism = mechanism
        previous = nil
        // Kafka's session lifetime: the configured maximum, bounded by the credential's expiry when it has one.
        let maximum = security.maxReauthMs[mechanism] ?? 0
        var lifetimeMs: Int64?
        if let expiration = server.credentialExpirationMs {
            let remaining = max(0, expiration.subtractingReportingOverflow(wallClockMs()).partialValue)
            lifetimeMs = maximum > 0 ? min(remaining, maximum) : remaining
        } else if maximum > 0 {
            lifetimeMs = maximum
        }
        guard let lifetimeMs else {
            sessionExpiration = nil
            return 0
        }
        let bounded = min(lifetimeMs, Self.maximumSessionLifetimeMs)
        sessionExpiration = NIODeadline.now() + .milliseconds(bounded)
        return bounded
    }

    private func makeServer(_ mechanism: String) -> SaslMechanismServer? {
        guard security.saslMechanisms.contains(mechanism) else { return nil }
        if mechanism == "PLAIN" { return PlainSaslServer(users: security.plainUsers) }
        if mechanism == "OAUTHBEARER", let validator = security.oauthBearer {
            return OAuthBearerSaslServer(validator: validator)
        }
        if let scram = ScramMechanism(mechanismName: mechanism) {
            return ScramSaslServer(mechanism: scram, store: scramCredentials)
        }
        return nil
    }

    private func respond<Response: KafkaResponseMessage>(
        _ response: Response, version: Int16, correlationId: Int32, thenClose: Bool
    ) -> Step {
        do {
            return .respond(
                try KafkaResponseFrame.encode(response, version: version, correlationId: correlationId),
                thenClose: thenClose)
        } catch {
            return .close("cannot encode \(Response.self): \(error)")
        }
    }
}
