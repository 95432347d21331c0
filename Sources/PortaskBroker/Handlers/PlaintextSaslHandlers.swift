import KafkaProtocol
import NIOCore

/// SaslHandshake (key 17, v0–1) and SaslAuthenticate (key 36, v0–2) on a PLAINTEXT listener, answered as Kafka
/// answers them there: ILLEGAL_SASL_STATE, with no mechanisms. A client configured for SASL against this
/// listener thus gets a clear authentication error instead of a closed connection. Stateless; thread-safe.
struct PlaintextSaslHandlers: Sendable {
    func makeHandlers() -> [ApiHandler] {
        [
            ApiHandler(SaslHandshakeRequest.self, response: SaslHandshakeResponse.self, versions: 0...1) { _, _ in
                SaslHandshakeResponse(errorCode: KafkaErrorCode.illegalSaslState.rawValue, mechanisms: [])
            },
            ApiHandler(SaslAuthenticateRequest.self, response: SaslAuthenticateResponse.self, versions: 0...2) { _, _ in
                SaslAuthenticateResponse(
                    errorCode: KafkaErrorCode.illegalSaslState.rawValue,
                    errorMessage: "SaslAuthenticate request received on a listener without SASL",
                    authBytes: ByteBuffer(), sessionLifetimeMs: 0)
            },
        ]
    }
}
