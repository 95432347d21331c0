import Foundation
import Testing
@testable import PortaskBroker

/// `scram.bootstrap.credentials`: Kafka's `--add-scram` syntax, Kafka's validation, and creation of missing
/// credentials only (salted and hashed, never the password).
struct ScramBootstrapTests {
    @Test func parsesPasswordAndSaltedPasswordEntries() throws {
        let salt = Array("pepper".utf8)
        let salted = ScramMechanism.sha512.saltedPassword("bob-secret", salt: salt, iterations: 8192)
        let entries = try ScramBootstrapCredential.parseList("""
            SCRAM-SHA-256=[name=alice,password=alice-secret]; \
            SCRAM-SHA-512=[name=bob,iterations=8192,salt="\(Data(salt).base64EncodedString())",\
            saltedpassword="\(Data(salted).base64EncodedString())"],SCRAM-SHA-512=[name="carol",password="a,b]c"]
            """)
        #expect(entries.map(\.user) == ["alice", "bob", "carol"])
        #expect(entries.map(\.mechanism) == [.sha256, .sha512, .sha512])
        #expect(entries.map(\.iterations) == [4096, 8192, 4096])
        #expect(entries[0].password == "alice-secret" && entries[0].salt == nil)
        #expect(entries[2].password == "a,b]c")
        // The salted form derives exactly the credential the password would.
        let fromConfig = entries[1].credential()
        #expect(fromConfig == ScramMechanism.sha512.credential(
            saltedPassword: ScramMechanism.sha512.saltedPassword("bob-secret", salt: salt, iterations: 8192),
            salt: salt, iterations: 8192))
        // Without a configured salt each derivation draws its own.
        #expect(entries[0].credential().salt != entries[0].credential().salt)
        #expect(try ScramBootstrapCredential.parseList(" ;, ").isEmpty)
    }

    @Test func refusesWhatKafkasFormatToolRefuses_withoutRepeatingSecrets() {
        let bad: [(String, String)] = [
            ("SCRAM-SHA-1=[name=a,password=top-secret]", "not supported"),
            ("SCRAM-SHA-256=name=a,password=top-secret", "expected '['"),
            ("SCRAM-SHA-256=[name=a,password=top-secret", "does not end with ']'"),
            ("SCRAM-SHA-256=[password=top-secret]", "'name'"),
            ("SCRAM-SHA-256=[name=a]", "one of 'password' or 'saltedpassword'"),
            ("SCRAM-SHA-256=[name=a,saltedpassword=\"AAAA\"]", "'salt' with 'saltedpassword'"),
            ("SCRAM-SHA-256=[name=a,password=top-secret,iterations=4095]", "4096...16384"),
            ("SCRAM-SHA-256=[name=a,password=top-secret,iterations=16385]", "4096...16384"),
            ("SCRAM-SHA-256=[name=a,password=top-secret,iterations=many]", "iterations"),
            ("SCRAM-SHA-256=[name=a,password=top-secret,colour=blue]", "unknown SCRAM configurations: colour"),
            ("SCRAM-SHA-256=[name=a,salt=\"%%%\",saltedpassword=\"AAAA\"]", "base64"),
            ("SCRAM-SHA-256=[name=a,salt=\"AAAA\",saltedpassword=\"AAAA\"]", "must be 32 bytes"),
            ("SCRAM-SHA-256=[name=a,password=top-secret,salt=\"AAAA\",saltedpassword=\"AAAA\"]", "only one of"),
            ("SCRAM-SHA-256", "no '='"),
        ]
        for (text, expected) in bad {
            do {
                _ = try ScramBootstrapCredential.parseList(text)
                Issue.record("accepted \(text)")
            } catch {
                let message = "\(error)"
                #expect(message.contains(expected), "\(text): \(message)")
                #expect(!message.contains("top-secret"))
            }
        }
    }

    @Test func brokerCreatesOnlyMissingCredentials_andStoresNoPassword() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("scram-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let config = try BrokerConfig(properties: [
            "log.dirs": directory,
            "scram.bootstrap.credentials": "SCRAM-SHA-256=[name=alice,password=alice-secret,iterations=8192]",
        ])
        let store = try ScramCredentialStore(dataDirectory: directory)
        #expect(try store.bootstrap(config.scramBootstrapCredentials) == ["alice (SCRAM-SHA-256)"])
        let first = try #require(store.credential(user: "alice", mechanism: .sha256))
        #expect(first.iterations == 8192)
        #expect(first.storedKey == ScramMechanism.sha256.hash(ScramMechanism.sha256.hmac(
            key: ScramMechanism.sha256.saltedPassword("alice-secret", salt: first.salt, iterations: 8192),
            Array("Client Key".utf8))))
        let text = try String(contentsOfFile: directory + "/scram-credentials", encoding: .utf8)
        #expect(!text.contains("alice-secret") && !text.contains(Data("alice-secret".utf8).base64EncodedString()))

        // A later start keeps the stored credential (say, changed since by AlterUserScramCredentials).
        let reopened = try ScramCredentialStore(dataDirectory: directory)
        #expect(try reopened.bootstrap(config.scramBootstrapCredentials).isEmpty)
        #expect(reopened.credential(user: "alice", mechanism: .sha256) == first)
        // A mechanism the user lacks is still created.
        let more = try ScramBootstrapCredential.parseList("SCRAM-SHA-512=[name=alice,password=other]")
        #expect(try reopened.bootstrap(more) == ["alice (SCRAM-SHA-512)"])
        #expect(reopened.describe(user: "alice").map(\.mechanism) == [.sha256, .sha512])
    }
}
