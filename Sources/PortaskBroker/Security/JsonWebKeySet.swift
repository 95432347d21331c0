import Crypto
import Foundation
import _CryptoExtras

/// The verification keys of a JSON Web Key Set (RFC 7517) for OAUTHBEARER tokens: RSA keys (`kty` RSA, `n`, `e`,
/// at least 2048 bits) for RS256/RS384/RS512 and EC keys (`kty` EC, `crv` P-256/P-384/P-521, `x`, `y`) for
/// ES256/ES384/ES512. Keys for encryption (`use` other than `sig`), of other types or malformed are skipped; a set
/// without any usable key is refused. Read once at start-up from `sasl.oauthbearer.jwks.endpoint.url` (a
/// `file://` URL). Immutable; thread-safe.
struct JsonWebKeySet: Sendable {
    enum PublicKey: Sendable {
        case rsa(_RSA.Signing.PublicKey)
        case p256(P256.Signing.PublicKey)
        case p384(P384.Signing.PublicKey)
        case p521(P521.Signing.PublicKey)
    }

    struct Key: Sendable {
        var keyId: String?
        /// The key's own `alg`, when it names one: only that algorithm may use it.
        var algorithm: String?
        var publicKey: PublicKey
    }

    let keys: [Key]
    /// How many entries of the set were skipped (for the start-up log).
    let skipped: Int

    /// The most keys a set may hold, and the largest file read.
    static let maximumKeys = 1000
    static let maximumBytes = 4 * 1024 * 1024

    /// Reads the set a `file://` URL names; throws a configuration error otherwise.
    init(url: String) throws {
        guard let parsed = URL(string: url), parsed.isFileURL else {
            throw BrokerError(
                .configuration,
                "sasl.oauthbearer.jwks.endpoint.url \(url) is not served: only file:// URLs to a JWKS are")
        }
        let data: Data
        do {
            let handle = try FileHandle(forReadingFrom: parsed)
            defer { try? handle.close() }
            data = try handle.read(upToCount: Self.maximumBytes + 1) ?? Data()
        } catch {
            throw BrokerError(.configuration, "cannot read the JWKS at \(url): \(error)")
        }
        guard data.count <= Self.maximumBytes else {
            throw BrokerError(.configuration, "the JWKS at \(url) is larger than \(Self.maximumBytes) bytes")
        }
        try self.init(json: data, source: url)
    }

    init(json: Data, source: String) throws {
        guard let object = try? JSONSerialization.jsonObject(with: json) as? [String: Any],
              let entries = object["keys"] as? [Any]
        else { throw BrokerError(.configuration, "\(source) is not a JSON Web Key Set (an object with \"keys\")") }
        guard entries.count <= Self.maximumKeys else {
            throw BrokerError(.configuration, "\(source) holds more than \(Self.maximumKeys) keys")
        }
        let keys = entries.compactMap { ($0 as? [String: Any]).flatMap(Self.key) }
        guard !keys.isEmpty else {
            throw BrokerError(.configuration, "\(source) holds no usable signature key (RSA of 2048+ bits or EC P-256/384/521)")
        }
        self.keys = keys
        skipped = entries.count - keys.count
    }

    private static func key(_ entry: [String: Any]) -> Key? {
        if let use = entry["use"] as? String, use != "sig" { return nil }
        func bytes(_ name: String) -> Data? {
            (entry[name] as? String).flatMap { Base64URL.decode(Substring($0)) }
        }
        let keyId = entry["kid"] as? String
        let algorithm = entry["alg"] as? String
        switch entry["kty"] as? String {
        case "RSA":
            guard let n = bytes("n"), let e = bytes("e"), let key = try? _RSA.Signing.PublicKey(n: n, e: e) else { return nil }
            return Key(keyId: keyId, algorithm: algorithm, publicKey: .rsa(key))
        case "EC":
            guard let x = bytes("x"), let y = bytes("y") else { return nil }
            let point = Data([0x04]) + x + y
            switch entry["crv"] as? String {
            case "P-256":
                return (try? P256.Signing.PublicKey(x963Representation: point))
                    .map { Key(keyId: keyId, algorithm: algorithm, publicKey: .p256($0)) }
            case "P-384":
                return (try? P384.Signing.PublicKey(x963Representation: point))
                    .map { Key(keyId: keyId, algorithm: algorithm, publicKey: .p384($0)) }
            case "P-521":
                return (try? P521.Signing.PublicKey(x963Representation: point))
                    .map { Key(keyId: keyId, algorithm: algorithm, publicKey: .p521($0)) }
            default:
                return nil
            }
        default:
            return nil
        }
    }

    /// Whether `signature` over `signingInput` verifies with `algorithm` under one of the keys the header's
    /// `kid` selects (every key of a fitting type when the header has none).
    func verify(algorithm: String, keyId: String?, signingInput: Data, signature: Data) -> Bool {
        keys.contains { key in
            guard keyId == nil || key.keyId == keyId, key.algorithm == nil || key.algorithm == algorithm else { return false }
            return Self.verify(key.publicKey, algorithm: algorithm, signingInput: signingInput, signature: signature)
        }
    }

    private static func verify(_ key: PublicKey, algorithm: String, signingInput: Data, signature: Data) -> Bool {
        switch (key, algorithm) {
        case (.rsa(let key), "RS256"):
            return key.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: signature), for: SHA256.hash(data: signingInput),
                padding: .insecurePKCS1v1_5)
        case (.rsa(let key), "RS384"):
            return key.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: signature), for: SHA384.hash(data: signingInput),
                padding: .insecurePKCS1v1_5)
        case (.rsa(let key), "RS512"):
            return key.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: signature), for: SHA512.hash(data: signingInput),
                padding: .insecurePKCS1v1_5)
        case (.p256(let key), "ES256"):
            guard let parsed = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
            return key.isValidSignature(parsed, for: signingInput)
        case (.p384(let key), "ES384"):
            guard let parsed = try? P384.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
            return key.isValidSignature(parsed, for: signingInput)
        case (.p521(let key), "ES512"):
            guard let parsed = try? P521.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
            return key.isValidSignature(parsed, for: signingInput)
        default:
            return false
        }
    }
}
