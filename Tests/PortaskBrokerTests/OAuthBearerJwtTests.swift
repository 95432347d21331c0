import Crypto
import Foundation
import Testing
import _CryptoExtras
@testable import PortaskBroker

/// OAUTHBEARER with signed JWTs: key sets, signature algorithms, Kafka's claim checks and hostile tokens.
struct OAuthBearerJwtTests {
    static let now: Int64 = 1_800_000_000_000
    static let nowSeconds = now / 1000

    static func base64URL(_ data: some DataProtocol) -> String {
        Data(data).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// Test keys and their JWKS.
    struct Keys {
        let rsa = try! _RSA.Signing.PrivateKey(keySize: .bits2048)
        let p256 = P256.Signing.PrivateKey()
        let p384 = P384.Signing.PrivateKey()

        var jwks: Data {
            let primitives = try! rsa.publicKey.getKeyPrimitives()
            func ec(_ point: Data, _ curve: String, _ kid: String) -> [String: String] {
                let half = (point.count - 1) / 2
                return ["kty": "EC", "crv": curve, "kid": kid, "x": base64URL(point.dropFirst().prefix(half)),
                        "y": base64URL(point.suffix(half))]
            }
            let keys: [[String: String]] = [
                ["kty": "RSA", "kid": "rsa", "use": "sig", "n": base64URL(primitives.modulus), "e": base64URL(primitives.publicExponent)],
                ec(p256.publicKey.x963Representation, "P-256", "p256"),
                ec(p384.publicKey.x963Representation, "P-384", "p384"),
                ["kty": "oct", "kid": "hmac", "k": "c2VjcmV0"],
                ["kty": "EC", "crv": "P-256", "kid": "enc", "use": "enc", "x": "AA", "y": "AA"],
            ]
            return try! JSONSerialization.data(withJSONObject: ["keys": keys])
        }

        func token(_ claims: [String: Any], alg: String = "RS256", kid: String? = "rsa") -> String {
            var header: [String: Any] = ["alg": alg, "typ": "JWT"]
            header["kid"] = kid
            let input = base64URL(try! JSONSerialization.data(withJSONObject: header)) + "."
                + base64URL(try! JSONSerialization.data(withJSONObject: claims))
            let data = Data(input.utf8)
            let signature: Data
            switch alg {
            case "RS256": signature = try! rsa.signature(for: SHA256.hash(data: data), padding: .insecurePKCS1v1_5).rawRepresentation
            case "RS512": signature = try! rsa.signature(for: SHA512.hash(data: data), padding: .insecurePKCS1v1_5).rawRepresentation
            case "ES256": signature = try! p256.signature(for: data).rawRepresentation
            case "ES384": signature = try! p384.signature(for: data).rawRepresentation
            default: signature = Data("unsigned".utf8)
            }
            return input + "." + base64URL(signature)
        }
    }

    static func claims(_ changes: [String: Any?] = [:]) -> [String: Any] {
        var claims: [String: Any] = [
            "sub": "alice", "iss": "https://issuer", "aud": ["portask"], "iat": nowSeconds, "exp": nowSeconds + 600,
            "scope": "kafka",
        ]
        for (key, value) in changes { claims[key] = value }
        return claims
    }

    static func validator(_ keys: Keys, _ settings: [String: String] = [:]) throws -> OAuthBearerJwtValidator {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("jwks-\(UUID().uuidString).json")
        try keys.jwks.write(to: path)
        defer { try? FileManager.default.removeItem(at: path) }
        var all = ["sasl.oauthbearer.jwks.endpoint.url": path.absoluteString]
        all.merge(settings) { _, new in new }
        return try OAuthBearerJwtValidator { all[$0] }
    }

    @Test func acceptsRsaAndEcSignaturesOfTheKeySet() throws {
        let keys = Keys()
        let validator = try Self.validator(keys, [
            "sasl.oauthbearer.expected.audience": "other, portask", "sasl.oauthbearer.expected.issuer": "https://issuer"])
        #expect(validator.keys.keys.count == 3 && validator.keys.skipped == 2)
        for (alg, kid) in [("RS256", "rsa"), ("RS512", "rsa"), ("ES256", "p256"), ("ES384", "p384"), ("ES256", nil)] {
            let token = keys.token(Self.claims(), alg: alg, kid: kid)
            #expect(try validator.validate(token, nowMs: Self.now)
                == OAuthBearerToken(principal: "alice", expirationMs: (Self.nowSeconds + 600) * 1000), "\(alg)")
        }
        // A configured claim names the principal; a string audience works as a list of one.
        let custom = try Self.validator(keys, ["sasl.oauthbearer.sub.claim.name": "client_id"])
        let token = keys.token(Self.claims(["client_id": "svc-orders", "aud": "anything"]))
        #expect(try custom.validate(token, nowMs: Self.now).principal == "svc-orders")
    }

    @Test func refusesWhatKafkaRefuses() throws {
        let keys = Keys()
        let other = Keys()
        let validator = try Self.validator(keys, [
            "sasl.oauthbearer.expected.audience": "portask", "sasl.oauthbearer.expected.issuer": "https://issuer",
            "sasl.oauthbearer.clock.skew.seconds": "30"])
        func refused(_ token: String) -> Bool {
            do {
                _ = try validator.validate(token, nowMs: Self.now)
                return false
            } catch {
                return error.status == "invalid_token"
            }
        }
        let valid = keys.token(Self.claims())
        #expect(!refused(valid))
        #expect(refused(other.token(Self.claims())))  // a key outside the set under a known kid
        #expect(refused(keys.token(Self.claims(), alg: "ES256", kid: "rsa")))  // the kid's key cannot verify ES256
        #expect(refused(keys.token(Self.claims(), kid: "unknown")))
        #expect(refused(keys.token(Self.claims(), alg: "HS256", kid: "hmac")))
        #expect(refused(keys.token(Self.claims(), alg: "none", kid: nil)))
        #expect(refused(keys.token(Self.claims(["exp": Self.nowSeconds - 31]))))
        #expect(!refused(keys.token(Self.claims(["exp": Self.nowSeconds - 29]))))  // within the clock skew
        #expect(refused(keys.token(Self.claims(["exp": nil]))))
        #expect(refused(keys.token(Self.claims(["iat": nil]))))
        #expect(refused(keys.token(Self.claims(["nbf": Self.nowSeconds + 31]))))
        #expect(refused(keys.token(Self.claims(["aud": ["elsewhere"]]))))
        #expect(refused(keys.token(Self.claims(["aud": nil]))))
        #expect(refused(keys.token(Self.claims(["iss": "https://evil"]))))
        #expect(refused(keys.token(Self.claims(["sub": ""]))))
        #expect(refused(keys.token(Self.claims(["scope": 7]))))
        // Tampering with any part breaks the signature.
        let parts = valid.split(separator: ".").map(String.init)
        let forged = Self.base64URL(try JSONSerialization.data(withJSONObject: Self.claims(["sub": "root"])))
        #expect(refused([parts[0], forged, parts[2]].joined(separator: ".")))
        #expect(refused([parts[0], parts[1], String(parts[2].dropLast(2)) + "AA"].joined(separator: ".")))
        #expect(refused(parts[0] + "." + parts[1] + "."))
        #expect(refused("a.b"))
        #expect(refused(String(repeating: "a", count: OAuthBearerUnsecuredValidator.maximumTokenBytes + 1)))
    }

    @Test func keySetConfigurationErrors() throws {
        #expect(throws: BrokerError.self) {
            try OAuthBearerJwtValidator { $0 == "sasl.oauthbearer.jwks.endpoint.url" ? "https://idp.example/jwks" : nil }
        }
        #expect(throws: BrokerError.self) {
            try OAuthBearerJwtValidator { $0 == "sasl.oauthbearer.jwks.endpoint.url" ? "file:///nonexistent/jwks.json" : nil }
        }
        #expect(throws: BrokerError.self) { try JsonWebKeySet(json: Data(#"{"keys":[]}"#.utf8), source: "t") }
        #expect(throws: BrokerError.self) { try JsonWebKeySet(json: Data("[1]".utf8), source: "t") }
        #expect(throws: BrokerError.self) {
            try Self.validator(Keys(), ["sasl.oauthbearer.clock.skew.seconds": "-1"])
        }
    }
}
