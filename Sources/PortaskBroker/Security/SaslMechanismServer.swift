/// The server side of one SASL mechanism exchange on one connection. Event-loop confined (not thread-safe).
protocol SaslMechanismServer: AnyObject {
    /// Evaluates the client's next token and returns the server's answer (possibly empty).
    func evaluate(_ token: [UInt8]) throws(SaslFailure) -> [UInt8]
    /// Whether the exchange has completed successfully.
    var isComplete: Bool { get }
    /// The authenticated user name once complete.
    var authenticatedUser: String? { get }
    /// When the credential used expires (ms since the epoch), for credentials that do (tokens); it bounds the
    /// session as `connections.max.reauth.ms` does.
    var credentialExpirationMs: Int64? { get }
}

extension SaslMechanismServer {
    var credentialExpirationMs: Int64? { nil }
}

/// A failed SASL exchange: the message sent to the client (never containing a secret).
struct SaslFailure: Error, Sendable {
    var message: String
}

/// SASL/PLAIN (RFC 4616) against the users of the listener's JAAS configuration, with Kafka's messages.
final class PlainSaslServer: SaslMechanismServer {
    private let users: [String: String]
    private(set) var isComplete = false
    private(set) var authenticatedUser: String?

    init(users: [String: String]) {
        self.users = users
    }

    func evaluate(_ token: [UInt8]) throws(SaslFailure) -> [UInt8] {
        let parts = token.split(separator: 0, omittingEmptySubsequences: false)
        guard parts.count == 3 else {
            throw SaslFailure(message: "Invalid SASL/PLAIN response: expected 3 tokens, got \(parts.count)")
        }
        let authorizationId = String(decoding: parts[0], as: UTF8.self)
        let user = String(decoding: parts[1], as: UTF8.self)
        let password = String(decoding: parts[2], as: UTF8.self)
        guard !user.isEmpty else { throw SaslFailure(message: "Authentication failed: username not specified") }
        guard !password.isEmpty else { throw SaslFailure(message: "Authentication failed: password not specified") }
        guard let expected = users[user], Self.constantTimeEqual(Array(expected.utf8), Array(password.utf8)) else {
            throw SaslFailure(message: "Authentication failed: Invalid username or password")
        }
        guard authorizationId.isEmpty || authorizationId == user else {
            throw SaslFailure(
                message: "Authentication failed: Client requested an authorization id that is different from username")
        }
        isComplete = true
        authenticatedUser = user
        return []
    }

    static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
    }
}

/// An exchange that fails at the client's first token with a fixed message (a re-authentication that asked for
/// another mechanism). Event-loop confined.
final class RefusingSaslServer: SaslMechanismServer {
    private let message: String
    let isComplete = false
    let authenticatedUser: String? = nil

    init(message: String) {
        self.message = message
    }

    func evaluate(_ token: [UInt8]) throws(SaslFailure) -> [UInt8] {
        throw SaslFailure(message: message)
    }
}
