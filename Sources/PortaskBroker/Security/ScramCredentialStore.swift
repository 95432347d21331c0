import Foundation
import LogEngine
import NIOConcurrencyHelpers

/// The SCRAM credentials of every user, kept durably in `<data dir>/scram-credentials` (salted and hashed keys,
/// never passwords) and changed by AlterUserScramCredentials.
///
/// File format, one credential a line, fields separated by spaces, every field but the last two base64:
/// `user mechanism salt storedKey serverKey iterations` (mechanism as Kafka's number, 1 or 2). A line that does
/// not parse is skipped with a log line at start-up. Thread-safe (one lock; writes replace the file atomically).
public final class ScramCredentialStore: Sendable {
    private struct Key: Hashable {
        var user: String
        var mechanism: ScramMechanism
    }

    private let path: String?
    private let credentials: NIOLockedValueBox<[Key: ScramCredential]>
    /// The most users a store holds, so that AlterUserScramCredentials cannot grow it without bound.
    public static let maximumCredentials = 100_000

    /// Opens the store of `dataDirectory` (`nil`: in memory only, for tests); returns the lines it skipped.
    public init(dataDirectory: String?) throws {
        path = dataDirectory.map { $0 + "/scram-credentials" }
        var loaded: [Key: ScramCredential] = [:]
        if let path, let text = try DurableTextFile.read(path) {
            for line in text.split(separator: "\n") {
                let fields = line.split(separator: " ").map(String.init)
                guard fields.count == 6, let user = Self.decode(fields[0]).flatMap({ String(bytes: $0, encoding: .utf8) }),
                    let number = Int8(fields[1]), let mechanism = ScramMechanism(rawValue: number),
                    let salt = Self.decode(fields[2]), let storedKey = Self.decode(fields[3]),
                    let serverKey = Self.decode(fields[4]), let iterations = Int32(fields[5])
                else { continue }
                loaded[Key(user: user, mechanism: mechanism)] = ScramCredential(
                    salt: salt, storedKey: storedKey, serverKey: serverKey, iterations: iterations)
            }
        }
        credentials = NIOLockedValueBox(loaded)
    }

    public func credential(user: String, mechanism: ScramMechanism) -> ScramCredential? {
        credentials.withLockedValue { $0[Key(user: user, mechanism: mechanism)] }
    }

    /// The mechanisms and iteration counts of `user`'s credentials, by mechanism number.
    public func describe(user: String) -> [(mechanism: ScramMechanism, iterations: Int32)] {
        credentials.withLockedValue { all in
            ScramMechanism.allCases.compactMap { mechanism in
                all[Key(user: user, mechanism: mechanism)].map { (mechanism, $0.iterations) }
            }
        }
    }

    /// Every user with at least one credential, sorted.
    public var users: [String] {
        credentials.withLockedValue { Set($0.keys.map(\.user)).sorted() }
    }

    /// Applies deletions and upsertions together and persists them; throws when the file cannot be written
    /// (the change is then not applied).
    public func apply(deletions: [(user: String, mechanism: ScramMechanism)],
                      upsertions: [(user: String, mechanism: ScramMechanism, credential: ScramCredential)]) throws {
        try credentials.withLockedValue { all in
            var next = all
            for deletion in deletions { next[Key(user: deletion.user, mechanism: deletion.mechanism)] = nil }
            for upsertion in upsertions {
                next[Key(user: upsertion.user, mechanism: upsertion.mechanism)] = upsertion.credential
            }
            guard next.count <= Self.maximumCredentials else {
                throw BrokerError(.invalidRequest, "too many SCRAM credentials (at most \(Self.maximumCredentials))")
            }
            if let path {
                let lines = next.sorted { ($0.key.user, $0.key.mechanism.rawValue) < ($1.key.user, $1.key.mechanism.rawValue) }
                    .map { key, value in
                        [Self.encode(Array(key.user.utf8)), "\(key.mechanism.rawValue)", Self.encode(value.salt),
                         Self.encode(value.storedKey), Self.encode(value.serverKey), "\(value.iterations)"]
                            .joined(separator: " ")
                    }
                try DurableTextFile.write(lines.map { $0 + "\n" }.joined(), to: path)
            }
            all = next
        }
    }

    /// Creates the configured credentials of users that have none for the mechanism yet (as Kafka's storage
    /// format does once) and persists them; existing credentials are left as they are. Returns the users created.
    @discardableResult
    public func bootstrap(_ entries: [ScramBootstrapCredential]) throws -> [String] {
        let missing = entries.filter { credential(user: $0.user, mechanism: $0.mechanism) == nil }
        guard !missing.isEmpty else { return [] }
        try apply(deletions: [], upsertions: missing.map { ($0.user, $0.mechanism, $0.credential()) })
        return missing.map { "\($0.user) (\($0.mechanism.mechanismName))" }
    }

    private static func encode(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }
    private static func decode(_ text: String) -> [UInt8]? { Data(base64Encoded: text).map { Array($0) } }
}
