import Foundation

/// Kafka's default OAUTHBEARER token validation for development (`OAuthBearerUnsecuredValidatorCallbackHandler`):
/// an unsecured JWS (`header.claims.` with `"alg":"none"` and an empty signature) whose principal claim
/// (`unsecuredValidatorPrincipalClaimName`, default `sub`) is a non-empty string, whose `exp` (seconds since the
/// epoch, required) is not past and whose `iat` (optional) is not in the future, both within
/// `unsecuredValidatorAllowableClockSkewMs`, and whose scope claim (`unsecuredValidatorScopeClaimName`, default
/// `scope`, a space-separated string or an array of strings) holds every `unsecuredValidatorRequiredScope`.
/// Tokens are untrusted: their size is bounded before any decoding. A value; thread-safe.
struct OAuthBearerUnsecuredValidator: OAuthBearerTokenValidator, Equatable {
    var principalClaimName = "sub"
    var scopeClaimName = "scope"
    var requiredScope: [String] = []
    var allowableClockSkewMs: Int64 = 0

    /// The longest token accepted (Kafka bounds it only by the SASL frame size).
    static let maximumTokenBytes = 16 * 1024

    /// Reads the options of the listener's `oauthbearer.sasl.jaas.config` entry.
    init(options: [String: String]) throws {
        if let name = options["unsecuredValidatorPrincipalClaimName"]?.trimmingWhitespace(), !name.isEmpty {
            principalClaimName = name
        }
        if let name = options["unsecuredValidatorScopeClaimName"]?.trimmingWhitespace(), !name.isEmpty {
            scopeClaimName = name
        }
        requiredScope = (options["unsecuredValidatorRequiredScope"] ?? "").split(separator: " ").map(String.init)
        if let skew = options["unsecuredValidatorAllowableClockSkewMs"] {
            guard let value = Int64(skew.trimmingWhitespace()), value >= 0 else {
                throw BrokerError(.configuration, "Invalid unsecuredValidatorAllowableClockSkewMs: \(skew)")
            }
            allowableClockSkewMs = value
        }
    }

    typealias Refusal = OAuthBearerRefusal

    /// Validates `token` at `nowMs` and returns its principal name.
    func principal(of token: String, nowMs: Int64) throws(Refusal) -> String {
        try validate(token, nowMs: nowMs).principal
    }

    /// Validates `token` at `nowMs`: its principal and expiration.
    func validate(_ token: String, nowMs: Int64) throws(Refusal) -> OAuthBearerToken {
        func invalid(_ reason: String) -> Refusal { Refusal(status: "invalid_token", scope: nil, reason: reason) }
        guard token.utf8.count <= Self.maximumTokenBytes else { throw invalid("token too long") }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else {
            throw invalid("Unsecured JWS compact serializations must have 3 dot-separated Base64URL-encoded values")
        }
        guard parts[2].isEmpty else { throw invalid("Unsecured JWS compact serializations must have an empty signature") }
        guard let header = Self.jsonObject(parts[0]) else { throw invalid("Invalid JOSE header") }
        guard header["alg"] as? String == "none" else { throw invalid("Unsecured JWS must have alg none") }
        guard let claims = Self.jsonObject(parts[1]) else { throw invalid("Invalid JWT claims") }
        guard let principal = claims[principalClaimName] as? String,
              !principal.trimmingWhitespace().isEmpty
        else { throw invalid("No principal name in the \(principalClaimName) claim") }
        let now = Double(nowMs)
        let skew = Double(allowableClockSkewMs)
        guard let expiration = Self.seconds(claims["exp"]) else { throw invalid("No expiration time (exp) in the token") }
        guard now - skew < expiration * 1000 else {
            throw invalid("The indicated time (\(nowMs) ms) is beyond the token's expiration time")
        }
        if claims["iat"] != nil {
            guard let issued = Self.seconds(claims["iat"]) else { throw invalid("Invalid issued-at time (iat)") }
            guard now + skew >= issued * 1000 else {
                throw invalid("The indicated time (\(nowMs) ms) is before the token's issued-at time")
            }
            guard expiration > issued else { throw invalid("The token's expiration is not after its issue time") }
        }
        let scope: Set<String>
        switch claims[scopeClaimName] {
        case let text as String: scope = Set(text.split(separator: " ").map(String.init))
        case let list as [Any]: scope = Set(list.compactMap { $0 as? String })
        default: scope = []
        }
        let missing = requiredScope.filter { !scope.contains($0) }
        guard missing.isEmpty else {
            throw Refusal(status: "insufficient_scope", scope: requiredScope.joined(separator: " "),
                          reason: "The provided scope is missing required values: \(missing)")
        }
        return OAuthBearerToken(principal: principal, expirationMs: OAuthBearerToken.milliseconds(seconds: expiration))
    }

    /// A finite JSON number of seconds, nil otherwise.
    private static func seconds(_ value: Any?) -> Double? {
        guard let number = value as? NSNumber else { return nil }
        let seconds = number.doubleValue
        return seconds.isFinite ? seconds : nil
    }

    /// The JSON object a Base64URL segment encodes, nil when it is not one.
    static func jsonObject(_ segment: Substring) -> [String: Any]? {
        guard let data = Base64URL.decode(segment) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data, options: [])) as? [String: Any]
    }
}

/// Base64URL without padding (RFC 4648 §5), as JWS uses it. Thread-safe.
enum Base64URL {
    static func decode(_ text: Substring) -> Data? {
        guard text.utf8.count <= OAuthBearerUnsecuredValidator.maximumTokenBytes else { return nil }
        var standard = String(text).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        guard !standard.contains("=") else { return nil }
        switch standard.utf8.count % 4 {
        case 2: standard += "=="
        case 3: standard += "="
        case 1: return nil
        default: break
        }
        return Data(base64Encoded: standard)
    }
}
