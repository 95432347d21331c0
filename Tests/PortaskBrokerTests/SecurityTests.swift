import Foundation
import Testing
@testable import PortaskBroker

/// JAAS parsing, certificate principal mapping, SCRAM (RFC 7677 vectors and whole exchanges) and SASL/PLAIN.
struct SecurityTests {
    @Test func jaasConfig_parsesPlainLoginModuleUsers() throws {
        let jaas = try JaasConfig(parsing: #"""
            org.apache.kafka.common.security.plain.PlainLoginModule required
              username="admin" password="admin-secret"
              user_admin="admin-secret" user_alice="a \"quoted\" secret" user_bob=bare;
            """#)
        #expect(jaas.loginModule == "org.apache.kafka.common.security.plain.PlainLoginModule")
        #expect(jaas.controlFlag == "required")
        #expect(jaas.options["user_alice"] == #"a "quoted" secret"#)
        #expect(jaas.options["user_bob"] == "bare")
        #expect(jaas.options.count == 5)
    }

    @Test func jaasConfig_refusesMalformedText() {
        #expect(throws: BrokerError.self) { try JaasConfig(parsing: "Module") }
        #expect(throws: BrokerError.self) { try JaasConfig(parsing: "Module mandatory a=b;") }
        #expect(throws: BrokerError.self) { try JaasConfig(parsing: #"Module required a="unterminated;"#) }
        #expect(throws: BrokerError.self) { try JaasConfig(parsing: "Module required a=b; Other required;") }
    }

    @Test func listenerSecurity_readsPerListenerOverridesAndJaasUsers() throws {
        let security = try ListenerSecurity(
            listenerName: "SASL_SSL", securityProtocol: .saslSsl,
            properties: [
                "ssl.client.auth": "none", "listener.name.sasl_ssl.ssl.client.auth": "required",
                "sasl.enabled.mechanisms": "plain,SCRAM-SHA-512",
                "listener.name.sasl_ssl.plain.sasl.jaas.config":
                    #"org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="pw";"#,
            ])
        #expect(security.clientAuth == .required)
        #expect(security.saslMechanisms == ["PLAIN", "SCRAM-SHA-512"])
        #expect(security.plainUsers == ["alice": "pw"])
        #expect(throws: BrokerError.self) {
            try ListenerSecurity(listenerName: "S", securityProtocol: .saslPlaintext, properties: ["sasl.enabled.mechanisms": "PLAIN"])
        }
        #expect(throws: BrokerError.self) {
            try ListenerSecurity(listenerName: "S", securityProtocol: .saslPlaintext, properties: [:])
        }
    }

    @Test func brokerConfig_mapsListenersToProtocolsAndAdvertisedEndpoints() throws {
        let config = try BrokerConfig(properties: [
            "log.dirs": "/tmp/x", "listeners": "PLAINTEXT://:9092,INTERNAL://127.0.0.1:9093",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,INTERNAL:SSL",
            "advertised.listeners": "INTERNAL://broker.example:19093",
            "listener.name.internal.ssl.keystore.location": "/k.pem",
        ])
        #expect(config.listenerSecurity.map(\.securityProtocol) == [.plaintext, .ssl])
        #expect(config.advertisedListeners.map(\.description) == ["PLAINTEXT://127.0.0.1:9092", "INTERNAL://broker.example:19093"])
        #expect(config.unknownProperties.isEmpty)
        #expect(throws: BrokerError.self) {
            try BrokerConfig(properties: ["log.dirs": "/tmp/x", "listeners": "OTHER://:1"])
        }
        #expect(throws: BrokerError.self) {
            try BrokerConfig(properties: ["log.dirs": "/tmp/x", "advertised.listeners": "OTHER://h:1"])
        }
    }

    @Test func principalMapper_appliesRulesInOrderAsKafka() throws {
        let mapper = try SslPrincipalMapper(
            rules: #"RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/,RULE:^CN=([a-zA-Z]+),OU=(.*?),O=.*$/$1@$2/L,RULE:^cn=(.*?),ou=(.*?),.*$/$1/U,DEFAULT"#)
        #expect(mapper.name(for: "CN=kafka-svc,OU=ServiceUsers,O=Example") == "kafka-svc")
        #expect(mapper.name(for: "CN=Alice,OU=Dev,O=Example") == "alice@dev")
        #expect(mapper.name(for: "cn=bob,ou=ops,o=example") == "BOB")
        #expect(mapper.name(for: "O=Only") == "O=Only")
        let strict = try SslPrincipalMapper(rules: "RULE:^CN=([^,]+)$/$1/")
        #expect(strict.name(for: "CN=x,O=y") == nil)
        #expect(try SslPrincipalMapper(rules: "DEFAULT").name(for: "CN=z") == "CN=z")
        #expect(throws: BrokerError.self) { try SslPrincipalMapper(rules: "RULE:broken") }
    }

    @Test func scram_matchesTheRfc7677Vector() throws {
        let mechanism = ScramMechanism.sha256
        let salt = Array(Data(base64Encoded: "W22ZaJ0SNY7soEsUEjb6gQ==")!)
        let salted = mechanism.saltedPassword("pencil", salt: salt, iterations: 4096)
        let credential = mechanism.credential(saltedPassword: salted, salt: salt, iterations: 4096)
        let authMessage = Array((
            "n=user,r=rOprNGfwEbeRWgbNEkqO,"
                + "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,"
                + "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0").utf8)
        let clientKey = mechanism.hmac(key: salted, Array("Client Key".utf8))
        let signature = mechanism.hmac(key: credential.storedKey, authMessage)
        let proof = zip(clientKey, signature).map { $0 ^ $1 }
        #expect(Data(proof).base64EncodedString() == "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
        let serverSignature = mechanism.hmac(key: credential.serverKey, authMessage)
        #expect(Data(serverSignature).base64EncodedString() == "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
    }

    /// Runs a whole SCRAM exchange as a client would; returns the server's final message or the failure.
    /// `repeatClientNonce` sends the client nonce again before the server's nonce in the client-final message, as
    /// librdkafka before 2.6.1 does (its proof is computed over that message, so only the nonce check refuses it).
    private func scramExchange(
        _ mechanism: ScramMechanism, store: ScramCredentialStore, user: String, password: String,
        repeatClientNonce: Bool = false
    ) -> Result<String, SaslFailure> {
        let server = ScramSaslServer(mechanism: mechanism, store: store)
        let clientFirstBare = "n=\(user),r=clientnonce123"
        do {
            let serverFirst = String(decoding: try server.evaluate(Array("n,,\(clientFirstBare)".utf8)), as: UTF8.self)
            let attributes = ScramSaslServer.attributes(serverFirst)
            let salt = Array(Data(base64Encoded: attributes["s"]!)!)
            let salted = mechanism.saltedPassword(password, salt: salt, iterations: Int(attributes["i"]!)!)
            let withoutProof = "c=biws,r=\(repeatClientNonce ? "clientnonce123" : "")\(attributes["r"]!)"
            let authMessage = Array("\(clientFirstBare),\(serverFirst),\(withoutProof)".utf8)
            let clientKey = mechanism.hmac(key: salted, Array("Client Key".utf8))
            let signature = mechanism.hmac(key: mechanism.hash(clientKey), authMessage)
            let proof = Data(zip(clientKey, signature).map { $0 ^ $1 }).base64EncodedString()
            let final = try server.evaluate(Array("\(withoutProof),p=\(proof)".utf8))
            #expect(server.isComplete && server.authenticatedUser == user)
            return .success(String(decoding: final, as: UTF8.self))
        } catch {
            #expect(!server.isComplete)
            return .failure(error as! SaslFailure)
        }
    }

    @Test func scram_authenticatesStoredUsersAndRefusesOthers() throws {
        let store = try ScramCredentialStore(dataDirectory: nil)
        for mechanism in ScramMechanism.allCases {
            let salt = Array("salt-\(mechanism.rawValue)".utf8)
            let salted = mechanism.saltedPassword("secret", salt: salt, iterations: 4096)
            try store.apply(deletions: [], upsertions: [
                ("alice", mechanism, mechanism.credential(saltedPassword: salted, salt: salt, iterations: 4096))])
            let success = scramExchange(mechanism, store: store, user: "alice", password: "secret")
            #expect((try? success.get())?.hasPrefix("v=") == true)
            guard case .failure(let wrong) = scramExchange(mechanism, store: store, user: "alice", password: "nope") else {
                Issue.record("a wrong password authenticated")
                continue
            }
            #expect(wrong.message.contains("invalid credentials"))
            guard case .failure = scramExchange(mechanism, store: store, user: "mallory", password: "secret") else {
                Issue.record("an unknown user authenticated")
                continue
            }
            // Kafka 4.x compares the client-final nonce with the server's exactly (RFC 5802), so librdkafka before
            // 2.6.1 (Debian's kcat links 2.0.2), which repeats the client nonce there, is refused by both.
            guard case .failure(let repeated) = scramExchange(
                mechanism, store: store, user: "alice", password: "secret", repeatClientNonce: true)
            else {
                Issue.record("a client-final message with the client nonce repeated authenticated")
                continue
            }
            #expect(repeated.message.contains("invalid credentials"))
        }
        #expect(ScramSaslServer.decodeSaslName("a=2Cb=3Dc") == "a,b=c")
        #expect(ScramSaslServer.decodeSaslName("bad=2") == nil)
    }

    @Test func scramStore_persistsCredentialsAcrossReopening() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("scram-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let credential = ScramMechanism.sha512.credential(saltedPassword: [1, 2, 3], salt: [4, 5], iterations: 8192)
        try ScramCredentialStore(dataDirectory: directory).apply(deletions: [], upsertions: [("u v", .sha512, credential)])
        let reopened = try ScramCredentialStore(dataDirectory: directory)
        #expect(reopened.credential(user: "u v", mechanism: .sha512) == credential)
        #expect(reopened.users == ["u v"])
        let text = try String(contentsOfFile: directory + "/scram-credentials", encoding: .utf8)
        #expect(!text.contains("u v"))
    }

    @Test func plain_checksUsersPasswordsAndAuthorizationId() {
        func attempt(_ token: String) -> String? {
            do {
                _ = try PlainSaslServer(users: ["alice": "pw"]).evaluate(Array(token.utf8))
                return nil
            } catch {
                return error.message
            }
        }
        #expect(attempt("\0alice\0pw") == nil)
        #expect(attempt("alice\0alice\0pw") == nil)
        #expect(attempt("\0alice\0wrong") == "Authentication failed: Invalid username or password")
        #expect(attempt("\0bob\0pw") == "Authentication failed: Invalid username or password")
        #expect(attempt("other\0alice\0pw")?.contains("authorization id") == true)
        #expect(attempt("alice\0pw")?.contains("expected 3 tokens") == true)
    }
}
