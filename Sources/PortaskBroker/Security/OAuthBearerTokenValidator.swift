/// Validates the bearer tokens of SASL/OAUTHBEARER: Kafka's unsecured-JWS validator for development
/// (``OAuthBearerUnsecuredValidator``) or signed-JWT validation against configured keys
/// (``OAuthBearerJwtValidator``). Implementations are values; thread-safe.
protocol OAuthBearerTokenValidator: Sendable {
    /// Validates `token` (untrusted, from the client) at `nowMs` (milliseconds since the epoch).
    func validate(_ token: String, nowMs: Int64) throws(OAuthBearerRefusal) -> OAuthBearerToken
}

/// A token that passed validation: the principal it names and when it expires, which bounds the session
/// (KIP-368). A value; thread-safe.
struct OAuthBearerToken: Sendable, Equatable {
    var principal: String
    /// Milliseconds since the epoch.
    var expirationMs: Int64

    /// A JWT time (seconds since the epoch, possibly fractional) in milliseconds, clamped to Int64's range.
    static func milliseconds(seconds: Double) -> Int64 {
        let value = (seconds * 1000).rounded(.down)
        guard value.isFinite else { return value > 0 ? .max : .min }
        if value >= 9.2e18 { return .max }
        if value <= -9.2e18 { return .min }
        return Int64(value)
    }
}

/// A refused token: Kafka's OAuth status (`invalid_token` or `insufficient_scope`) and, for the latter, the
/// scope that was required; `reason` is for the broker's log. A value; thread-safe.
struct OAuthBearerRefusal: Error, Equatable {
    var status: String
    var scope: String?
    var reason: String

    /// The JSON error the server sends as its challenge (RFC 7628 §3.2.2).
    var json: String {
        guard let scope else { return "{\"status\":\"\(status)\"}" }
        return "{\"status\":\"\(status)\", \"scope\":\"\(scope)\"}"
    }
}
