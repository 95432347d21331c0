import Foundation

/// Kafka's broker-side validation of signed JWTs (`OAuthBearerValidatorCallbackHandler` with
/// `sasl.oauthbearer.jwks.endpoint.url`): a JWS compact serialization signed with RS256/384/512 or ES256/384/512
/// by a key of the configured JWKS (the header's `kid` selects it; `none` and HMAC are refused), with `exp` and
/// `iat` required, `exp` not past and `nbf` (when present) not in the future, both within
/// `sasl.oauthbearer.clock.skew.seconds` (default 30); `aud` must contain one of
/// `sasl.oauthbearer.expected.audience` when that is set, and `iss` must equal `sasl.oauthbearer.expected.issuer`
/// when that is set. The principal is the string claim `sasl.oauthbearer.sub.claim.name` (default `sub`); the scope
/// claim (`sasl.oauthbearer.scope.claim.name`, default `scope`) is read as Kafka reads it but not required.
/// Tokens are untrusted: their size is bounded before decoding. A value; thread-safe.
struct OAuthBearerJwtValidator: OAuthBearerTokenValidator {
    let keys: JsonWebKeySet
    var expectedAudience: [String] = []
    var expectedIssuer: String?
    var subClaimName = "sub"
    var scopeClaimName = "scope"
    var clockSkewSeconds: Int64 = 30

    /// Reads Kafka's `sasl.oauthbearer.*` settings; `value` resolves a property with the listener's prefixes.
    init(value: (String) -> String?) throws {
        guard let url = value("sasl.oauthbearer.jwks.endpoint.url") else {
            throw BrokerError(.configuration, "sasl.oauthbearer.jwks.endpoint.url is not set")
        }
        keys = try JsonWebKeySet(url: url)
        expectedAudience = (value("sasl.oauthbearer.expected.audience") ?? "").split(separator: ",")
            .map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
        expectedIssuer = value("sasl.oauthbearer.expected.issuer").flatMap { $0.isEmpty ? nil : $0 }
        if let name = value("sasl.oauthbearer.sub.claim.name"), !name.isEmpty { subClaimName = name }
        if let name = value("sasl.oauthbearer.scope.claim.name"), !name.isEmpty { scopeClaimName = name }
        if let text = value("sasl.oauthbearer.clock.skew.seconds") {
            guard let skew = Int64(text), skew >= 0, skew <= 86_400 else {
                throw BrokerError(.configuration, "Invalid value \(text) for configuration sasl.oauthbearer.clock.skew.seconds")
            }
            clockSkewSeconds = skew
        }
    }

    func validate(_ token: String, nowMs: Int64) throws(OAuthBearerRefusal) -> OAuthBearerToken {
        func invalid(_ reason: String) -> OAuthBearerRefusal {
            OAuthBearerRefusal(status: "invalid_token", scope: nil, reason: reason)
        }
        guard token.utf8.count <= OAuthBearerUnsecuredValidator.maximumTokenBytes else { throw invalid("token too long") }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw invalid("A JWS compact serialization has 3 dot-separated parts") }
        guard let header = OAuthBearerUnsecuredValidator.jsonObject(parts[0]) else { throw invalid("Invalid JOSE header") }
        guard let algorithm = header["alg"] as? String else { throw invalid("The JOSE header names no algorithm") }
        guard Self.algorithms.contains(algorithm) else { throw invalid("The algorithm \(algorithm.prefix(20)) is not accepted") }
        guard header["crit"] == nil else { throw invalid("Critical header parameters are not understood") }
        guard let signature = Base64URL.decode(parts[2]), !signature.isEmpty else { throw invalid("Invalid signature encoding") }
        let signingInput = Data("\(parts[0]).\(parts[1])".utf8)
        guard keys.verify(algorithm: algorithm, keyId: header["kid"] as? String, signingInput: signingInput, signature: signature)
        else { throw invalid("The signature does not verify with any key of the JWKS") }
        guard let claims = OAuthBearerUnsecuredValidator.jsonObject(parts[1]) else { throw invalid("Invalid JWT claims") }

        let now = Double(nowMs) / 1000
        let skew = Double(clockSkewSeconds)
        guard let expiration = Self.seconds(claims["exp"]) else { throw invalid("No expiration time (exp) in the token") }
        guard now - skew < expiration else { throw invalid("The token expired") }
        guard Self.seconds(claims["iat"]) != nil else { throw invalid("No issued-at time (iat) in the token") }
        if claims["nbf"] != nil {
            guard let notBefore = Self.seconds(claims["nbf"]) else { throw invalid("Invalid not-before time (nbf)") }
            guard now + skew >= notBefore else { throw invalid("The token is not valid yet (nbf)") }
        }
        if !expectedAudience.isEmpty {
            let audience: [String]
            switch claims["aud"] {
            case let single as String: audience = [single]
            case let list as [Any]: audience = list.compactMap { $0 as? String }
            default: audience = []
            }
            guard audience.contains(where: expectedAudience.contains) else { throw invalid("The audience (aud) is not expected") }
        }
        if let expectedIssuer {
            guard claims["iss"] as? String == expectedIssuer else { throw invalid("The issuer (iss) is not expected") }
        }
        guard let subject = claims[subClaimName] as? String, !subject.trimmingWhitespace().isEmpty else {
            throw invalid("No principal name in the \(subClaimName) claim")
        }
        switch claims[scopeClaimName] {
        case nil, is String: break
        case let list as [Any] where list.allSatisfy({ $0 is String }): break
        default: throw invalid("The \(scopeClaimName) claim is neither a string nor a list of strings")
        }
        return OAuthBearerToken(principal: subject, expirationMs: OAuthBearerToken.milliseconds(seconds: expiration))
    }

    static let algorithms: Set<String> = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512"]

    /// A finite JSON number of seconds, nil otherwise.
    private static func seconds(_ value: Any?) -> Double? {
        guard let number = value as? NSNumber else { return nil }
        let seconds = number.doubleValue
        return seconds.isFinite ? seconds : nil
    }
}
