import Foundation

/// The server side of SASL/OAUTHBEARER (RFC 7628) as Kafka's OAuthBearerSaslServer runs it. The client's initial
/// response is a GS2 header (`n,,` or `n,a=<authzid>,`) followed by `\u{1}`-separated key/value pairs ending in
/// `\u{1}\u{1}`: `auth=Bearer <token>` and optional extensions (keys of letters, printable values; `auth` is
/// reserved). A valid token completes the exchange with its principal (an authorization id, if given, must equal
/// it). An invalid token gets the JSON error (`{"status":"invalid_token"}`) as the server's challenge; the client
/// answers `\u{1}` and the exchange then fails with that error. Input is bounded before it is parsed.
/// Event-loop confined.
final class OAuthBearerSaslServer: SaslMechanismServer {
    private enum State {
        case receiveInitialResponse
        case refused(String)
        case complete
        case failed
    }

    private let validator: any OAuthBearerTokenValidator
    private let clock: @Sendable () -> Int64
    private var state = State.receiveInitialResponse
    private(set) var authenticatedUser: String?
    /// The validated token's expiration (ms since the epoch): the session ends with it (KIP-368).
    private(set) var credentialExpirationMs: Int64?
    var isComplete: Bool { if case .complete = state { true } else { false } }

    /// The longest initial response accepted: a maximal token and room for the header and extensions.
    static let maximumResponseBytes = OAuthBearerUnsecuredValidator.maximumTokenBytes + 4096
    static let separator: UInt8 = 0x01

    init(validator: any OAuthBearerTokenValidator, clock: @escaping @Sendable () -> Int64 = OAuthBearerSaslServer.nowMs) {
        self.validator = validator
        self.clock = clock
    }

    @Sendable static func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    func evaluate(_ token: [UInt8]) throws(SaslFailure) -> [UInt8] {
        switch state {
        case .receiveInitialResponse:
            return try evaluateInitialResponse(token)
        case .refused(let error):
            state = .failed
            // The client acknowledges the error with a lone separator; anything else is a protocol error too.
            guard token == [Self.separator] else {
                throw SaslFailure(message: "Authentication failed: unexpected response after the server's error")
            }
            throw SaslFailure(message: error)
        case .complete, .failed:
            state = .failed
            throw SaslFailure(message: "Authentication failed: unexpected SASL/OAUTHBEARER response")
        }
    }

    private func evaluateInitialResponse(_ response: [UInt8]) throws(SaslFailure) -> [UInt8] {
        state = .failed
        guard response.count <= Self.maximumResponseBytes else {
            throw SaslFailure(message: "Authentication failed: Invalid OAUTHBEARER client first message")
        }
        guard let message = Self.parse(response) else {
            throw SaslFailure(message: "Authentication failed: Invalid OAUTHBEARER client first message")
        }
        let principal: String
        do {
            let validated = try validator.validate(message.token, nowMs: clock())
            principal = validated.principal
            credentialExpirationMs = validated.expirationMs
        } catch {
            let json = error.json
            state = .refused(json)
            return Array(json.utf8)
        }
        if let authorizationId = message.authorizationId, !authorizationId.isEmpty, authorizationId != principal {
            throw SaslFailure(message: "Authentication failed: Client requested an authorization id (\(authorizationId)) that is different from the token's principal name (\(principal))")
        }
        state = .complete
        authenticatedUser = principal
        return []
    }

    /// The parts of a client's initial response.
    struct InitialResponse: Equatable {
        var authorizationId: String?
        var token: String
        var extensions: [String: String]
    }

    private static func isLetter(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
    }

    /// Parses `n,[a=authzid],\u{1}key=value\u{1}...\u{1}\u{1}`; nil when malformed.
    static func parse(_ bytes: [UInt8]) -> InitialResponse? {
        guard let text = String(validating: bytes, as: UTF8.self), text.hasPrefix("n,") else { return nil }
        let afterFlag = text.dropFirst(2)
        guard let comma = afterFlag.firstIndex(of: ",") else { return nil }
        let authorization = afterFlag[..<comma]
        var authorizationId: String?
        if !authorization.isEmpty {
            guard authorization.hasPrefix("a=") else { return nil }
            authorizationId = String(authorization.dropFirst(2))
        }
        let rest = afterFlag[afterFlag.index(after: comma)...]
        guard rest.hasPrefix("\u{1}"), rest.hasSuffix("\u{1}\u{1}") else { return nil }
        let body = rest.dropFirst().dropLast(2)
        var pairs: [String: String] = [:]
        for pair in body.split(separator: "\u{1}", omittingEmptySubsequences: false) {
            guard let equals = pair.firstIndex(of: "=") else { return nil }
            let key = String(pair[..<equals])
            let value = String(pair[pair.index(after: equals)...])
            guard !key.isEmpty, key.unicodeScalars.allSatisfy(Self.isLetter),
                  value.unicodeScalars.allSatisfy({ (0x21...0x7E).contains($0.value) || [" ", "\t", "\r", "\n"].contains($0) }),
                  pairs.updateValue(value, forKey: key) == nil
            else { return nil }
        }
        guard let auth = pairs.removeValue(forKey: "auth") else { return nil }
        let schemeAndToken = auth.split(separator: " ", omittingEmptySubsequences: true)
        guard schemeAndToken.count == 2, schemeAndToken[0].lowercased() == "bearer" else { return nil }
        let token = String(schemeAndToken[1])
        guard token.unicodeScalars.allSatisfy({ isLetter($0) || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0) })
        else { return nil }
        return InitialResponse(authorizationId: authorizationId, token: token, extensions: pairs)
    }
}
