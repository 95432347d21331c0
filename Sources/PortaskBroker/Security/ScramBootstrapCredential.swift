import Foundation

/// A SCRAM credential given in configuration (`scram.bootstrap.credentials`), in the syntax of Kafka's
/// `kafka-storage format --add-scram`: `SCRAM-SHA-256=[name=alice,password=alice-secret]` or, so that no password
/// appears in the configuration, `SCRAM-SHA-512=[name=bob,iterations=8192,salt="N3E=",saltedpassword="YCE="]`
/// (salt and salted password base64). Several entries are separated by commas, semicolons or white space.
/// `iterations` defaults to 4096 and must lie within Kafka's bounds; without `salt`, a random one is drawn.
///
/// The broker stores only the derived salt, StoredKey and ServerKey, and only for users that have no credential
/// for the mechanism yet, so credentials changed later with AlterUserScramCredentials are kept. Parse errors
/// never repeat the entry's text (it may hold a password). A value; thread-safe.
public struct ScramBootstrapCredential: Sendable, Equatable {
    public var user: String
    public var mechanism: ScramMechanism
    public var iterations: Int32
    /// The configured salt; nil draws a random one when the credential is created.
    public var salt: [UInt8]?
    /// Either the password or the salted password (`Hi(password, salt, iterations)`) is set.
    public var password: String?
    public var saltedPassword: [UInt8]?

    /// Most entries one configuration may give.
    public static let maximumEntries = 10_000

    /// The credential to store: salt, StoredKey and ServerKey derived from the configured secret.
    public func credential() -> ScramCredential {
        let salt = self.salt ?? Self.randomSalt()
        let salted = saltedPassword ?? mechanism.saltedPassword(password ?? "", salt: salt, iterations: Int(iterations))
        return mechanism.credential(saltedPassword: salted, salt: salt, iterations: iterations)
    }

    private static func randomSalt() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// Parses a whole `scram.bootstrap.credentials` value; throws a configuration error naming the problem.
    public static func parseList(_ text: String) throws -> [ScramBootstrapCredential] {
        var entries: [ScramBootstrapCredential] = []
        var rest = Substring(text)
        let separators: Set<Character> = [",", ";", " ", "\t", "\n", "\r"]
        while true {
            rest = rest.drop { separators.contains($0) }
            guard !rest.isEmpty else { break }
            guard entries.count < maximumEntries else {
                throw problem("more than \(maximumEntries) entries")
            }
            guard let equals = rest.firstIndex(of: "=") else { throw problem("an entry has no '=' after its mechanism") }
            let mechanismName = rest[..<equals].trimmingWhitespace()
            guard let mechanism = ScramMechanism(mechanismName: mechanismName) else {
                throw problem("the mechanism \(mechanismName.prefix(40)) is not supported")
            }
            rest = rest[rest.index(after: equals)...]
            guard rest.first == "[" else { throw problem("expected '[' after \(mechanismName)=") }
            var inQuotes = false
            var end: Substring.Index?
            for index in rest.indices.dropFirst() {
                let character = rest[index]
                if character == "\"" { inQuotes.toggle() }
                if character == "]", !inQuotes { end = index; break }
            }
            guard let end else { throw problem("an entry for \(mechanismName) does not end with ']'") }
            entries.append(try parseEntry(mechanism, rest[rest.index(after: rest.startIndex)..<end]))
            rest = rest[rest.index(after: end)...]
        }
        return entries
    }

    /// The `name=…,password=…` inside the brackets of one entry.
    private static func parseEntry(_ mechanism: ScramMechanism, _ body: Substring) throws -> ScramBootstrapCredential {
        var components: [String: String] = [:]
        for component in splitOutsideQuotes(body) where !component.trimmingWhitespace().isEmpty {
            guard let equals = component.firstIndex(of: "=") else {
                throw problem("a component of a \(mechanism.mechanismName) entry is not of the form key=value")
            }
            let key = component[..<equals].trimmingWhitespace()
            var value = component[component.index(after: equals)...].trimmingWhitespace()
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            components[key] = value
        }
        guard let user = components.removeValue(forKey: "name"), !user.isEmpty else {
            throw problem("you must supply 'name' in each entry")
        }
        func base64(_ key: String) throws -> [UInt8]? {
            guard let text = components.removeValue(forKey: key) else { return nil }
            guard let data = Data(base64Encoded: text), !data.isEmpty else {
                throw problem("failed to decode the \(key) of user \(user) as base64")
            }
            return Array(data)
        }
        let salt = try base64("salt")
        let saltedPassword = try base64("saltedpassword")
        let password = components.removeValue(forKey: "password")
        var iterations: Int32 = ScramMechanism.minimumIterations
        if let text = components.removeValue(forKey: "iterations") {
            guard let parsed = Int32(text) else { throw problem("failed to parse the iterations of user \(user)") }
            iterations = parsed
        }
        guard (ScramMechanism.minimumIterations...ScramMechanism.maximumIterations).contains(iterations) else {
            throw problem("the iterations of user \(user) must be within \(ScramMechanism.minimumIterations)"
                + "...\(ScramMechanism.maximumIterations) for \(mechanism.mechanismName)")
        }
        guard components.isEmpty else {
            throw problem("unknown SCRAM configurations: \(components.keys.sorted().joined(separator: ", "))")
        }
        if password == nil {
            guard let saltedPassword else { throw problem("you must supply one of 'password' or 'saltedpassword' for user \(user)") }
            guard salt != nil else { throw problem("you must supply 'salt' with 'saltedpassword' for user \(user)") }
            guard saltedPassword.count == mechanism.hash([]).count else {
                throw problem("the saltedpassword of user \(user) must be \(mechanism.hash([]).count) bytes for \(mechanism.mechanismName)")
            }
        } else if saltedPassword != nil {
            throw problem("supply only one of 'password' or 'saltedpassword' for user \(user)")
        }
        return ScramBootstrapCredential(
            user: user, mechanism: mechanism, iterations: iterations, salt: salt, password: password,
            saltedPassword: saltedPassword)
    }

    private static func splitOutsideQuotes(_ text: Substring) -> [Substring] {
        var parts: [Substring] = []
        var start = text.startIndex
        var inQuotes = false
        for index in text.indices {
            if text[index] == "\"" { inQuotes.toggle() }
            if text[index] == ",", !inQuotes {
                parts.append(text[start..<index])
                start = text.index(after: index)
            }
        }
        parts.append(text[start...])
        return parts
    }

    private static func problem(_ message: String) -> BrokerError {
        BrokerError(.configuration, "Invalid scram.bootstrap.credentials: \(message)")
    }
}
