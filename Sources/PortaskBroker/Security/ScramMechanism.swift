import Crypto

/// SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677): the hash functions and key derivations, with Kafka's
/// wire numbers (`mechanism` of the SCRAM credential APIs) and iteration bounds. Stateless; thread-safe.
public enum ScramMechanism: Int8, Sendable, CaseIterable {
    case sha256 = 1
    case sha512 = 2

    /// The SASL mechanism name.
    public var mechanismName: String { self == .sha256 ? "SCRAM-SHA-256" : "SCRAM-SHA-512" }
    /// Kafka's bounds on the iteration count of a credential.
    public static let minimumIterations: Int32 = 4096
    public static let maximumIterations: Int32 = 16384

    public init?(mechanismName: String) {
        guard let found = Self.allCases.first(where: { $0.mechanismName == mechanismName }) else { return nil }
        self = found
    }

    public func hmac(key: [UInt8], _ data: [UInt8]) -> [UInt8] {
        switch self {
        case .sha256: Array(HMAC<SHA256>.authenticationCode(for: data, using: SymmetricKey(data: key)))
        case .sha512: Array(HMAC<SHA512>.authenticationCode(for: data, using: SymmetricKey(data: key)))
        }
    }

    public func hash(_ data: [UInt8]) -> [UInt8] {
        switch self {
        case .sha256: Array(SHA256.hash(data: data))
        case .sha512: Array(SHA512.hash(data: data))
        }
    }

    /// `Hi(password, salt, iterations)`: PBKDF2 with this HMAC, one block.
    public func saltedPassword(_ password: String, salt: [UInt8], iterations: Int) -> [UInt8] {
        let key = Array(password.utf8)
        var block = hmac(key: key, salt + [0, 0, 0, 1])
        var result = block
        for _ in 1..<max(1, iterations) {
            block = hmac(key: key, block)
            for index in result.indices { result[index] ^= block[index] }
        }
        return result
    }

    /// The stored credential for a salted password (what the broker keeps instead of the password).
    public func credential(saltedPassword: [UInt8], salt: [UInt8], iterations: Int32) -> ScramCredential {
        let clientKey = hmac(key: saltedPassword, Array("Client Key".utf8))
        return ScramCredential(
            salt: salt, storedKey: hash(clientKey), serverKey: hmac(key: saltedPassword, Array("Server Key".utf8)),
            iterations: iterations)
    }
}

/// A user's SCRAM credential for one mechanism: salt, StoredKey, ServerKey and iteration count (RFC 5802).
/// A value; thread-safe.
public struct ScramCredential: Sendable, Equatable {
    public var salt: [UInt8]
    public var storedKey: [UInt8]
    public var serverKey: [UInt8]
    public var iterations: Int32
}
