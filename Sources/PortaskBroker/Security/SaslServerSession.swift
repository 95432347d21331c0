import KafkaProtocol
import NIOCore

/// The SASL authentication of one connection on a SASL listener, as Kafka's SaslServerAuthenticator runs it:
/// ApiVersions and SaslHandshake (v0–1) first, then the mechanism's tokens in SaslAuthenticate requests (after a
/// v1 handshake) or as bare length-prefixed frames (after a v0 handshake). No other request is accepted before
/// the exchange completes: one closes the connection. A failed exchange answers SASL_AUTHENTICATION_FAILED
/// (unframed: nothing) and the connection closes after the answer. Event-loop confined.
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
    private var state = State.handshake
    /// The principal once authentication succeeded.
    private(set) var principal: KafkaPrincipal?
    /// The mechanism that failed last, for the broker's log.
    private(set) var failure: String?

    init(security: ListenerSecurity, scramCredentials: ScramCredentialStore) {
        self.security = security
        self.scramCredentials = scramCredentials
    }

    var isAuthenticated: Bool { if case .complete = state { true } else { false } }

    func receive(_ frame: ByteBuffer) -> Step {
        switch state {
        case .complete:
            return .close("SASL frame after authentication")
        case .unframedAuthenticate(let server, let mechanism):
            let token = Array(frame.readableBytesView)
            do {
                let answer = try server.evaluate(token)
                finishIfComplete(server)
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
            state = version == 0
                ? .unframedAuthenticate(server, mechanism: handshake.mechanism)
                : .authenticate(server, mechanism: handshake.mechanism)
            return respond(
                SaslHandshakeResponse(errorCode: KafkaErrorCode.noError.rawValue, mechanisms: mechanisms),
                version: version, correlationId: correlationId, thenClose: false)
        case (.authenticate(let server, let mechanism), let authenticate as SaslAuthenticateRequest):
            do {
                let answer = try server.evaluate(Array(authenticate.authBytes.readableBytesView))
                finishIfComplete(server)
                return respond(
                    SaslAuthenticateResponse(
                        errorCode: KafkaErrorCode.noError.rawValue, errorMessage: nil, authBytes: ByteBuffer(bytes: answer),
                        sessionLifetimeMs: 0),
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

    private func finishIfComplete(_ server: SaslMechanismServer) {
        guard server.isComplete, let user = server.authenticatedUser else { return }
        state = .complete
        principal = KafkaPrincipal(name: user)
    }

    private func makeServer(_ mechanism: String) -> SaslMechanismServer? {
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
