import Foundation

/// The server side of SCRAM-SHA-256/512 (RFC 5802) against the credential store, as Kafka's ScramSaslServer:
/// client-first (`n,,n=user,r=nonce`), server-first (`r=…,s=salt,i=iterations`), client-final with the proof,
/// server-final (`v=signature`). Channel binding is not offered (`p=` is refused). Event-loop confined.
final class ScramSaslServer: SaslMechanismServer {
    private enum State {
        case receiveClientFirst
        case receiveClientFinal(user: String, credential: ScramCredential, clientFirstBare: String, serverFirst: String,
                                nonce: String, gs2Header: String)
        case complete
        case failed
    }

    private let mechanism: ScramMechanism
    private let store: ScramCredentialStore
    private var state = State.receiveClientFirst
    private(set) var authenticatedUser: String?
    var isComplete: Bool { if case .complete = state { true } else { false } }

    init(mechanism: ScramMechanism, store: ScramCredentialStore) {
        self.mechanism = mechanism
        self.store = store
    }

    private var invalidCredentials: SaslFailure {
        SaslFailure(
            message: "Authentication failed during authentication due to invalid credentials with SASL mechanism \(mechanism.mechanismName)")
    }

    func evaluate(_ token: [UInt8]) throws(SaslFailure) -> [UInt8] {
        guard let message = String(bytes: token, encoding: .utf8) else {
            state = .failed
            throw invalidCredentials
        }
        switch state {
        case .receiveClientFirst:
            return try receiveClientFirst(message)
        case .receiveClientFinal(let user, let credential, let clientFirstBare, let serverFirst, let nonce, let gs2Header):
            return try receiveClientFinal(
                message, user: user, credential: credential, clientFirstBare: clientFirstBare,
                serverFirst: serverFirst, nonce: nonce, gs2Header: gs2Header)
        case .complete, .failed:
            throw SaslFailure(message: "Unexpected SASL token in state \(state)")
        }
    }

    private func receiveClientFirst(_ message: String) throws(SaslFailure) -> [UInt8] {
        state = .failed
        // gs2-header: ("n" / "y") "," [ "a=" authzid ] ","
        let fields = message.split(separator: ",", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 3, fields[0] == "n" || fields[0] == "y",
            fields[1].isEmpty || fields[1].hasPrefix("a=")
        else { throw SaslFailure(message: "Invalid SCRAM client first message") }
        let gs2Header = fields[0] + "," + fields[1] + ","
        let bare = fields[2]
        let attributes = Self.attributes(bare)
        guard let rawUser = attributes["n"], let clientNonce = attributes["r"], !clientNonce.isEmpty,
            let user = Self.decodeSaslName(rawUser)
        else { throw SaslFailure(message: "Invalid SCRAM client first message") }
        if attributes["tokenauth"] != nil {
            throw SaslFailure(message: "Authentication failed: delegation tokens are not supported")
        }
        if fields[1].hasPrefix("a="), Self.decodeSaslName(String(fields[1].dropFirst(2))) != user {
            throw SaslFailure(message: "Authentication failed: Client requested an authorization id that is different from username")
        }
        guard let credential = store.credential(user: user, mechanism: mechanism) else { throw invalidCredentials }
        let nonce = clientNonce + Self.randomNonce()
        let serverFirst = "r=\(nonce),s=\(Data(credential.salt).base64EncodedString()),i=\(credential.iterations)"
        state = .receiveClientFinal(
            user: user, credential: credential, clientFirstBare: bare, serverFirst: serverFirst, nonce: nonce,
            gs2Header: gs2Header)
        return Array(serverFirst.utf8)
    }

    private func receiveClientFinal(
        _ message: String, user: String, credential: ScramCredential, clientFirstBare: String, serverFirst: String,
        nonce: String, gs2Header: String
    ) throws(SaslFailure) -> [UInt8] {
        state = .failed
        guard let proofRange = message.range(of: ",p=") else { throw invalidCredentials }
        let withoutProof = String(message[..<proofRange.lowerBound])
        let attributes = Self.attributes(withoutProof)
        guard attributes["r"] == nonce,
            attributes["c"] == Data(gs2Header.utf8).base64EncodedString(),
            let proof = Data(base64Encoded: String(message[proofRange.upperBound...])).map(Array.init),
            proof.count == credential.storedKey.count
        else { throw invalidCredentials }
        let authMessage = Array("\(clientFirstBare),\(serverFirst),\(withoutProof)".utf8)
        let clientSignature = mechanism.hmac(key: credential.storedKey, authMessage)
        var clientKey = proof
        for index in clientKey.indices { clientKey[index] ^= clientSignature[index] }
        guard PlainSaslServer.constantTimeEqual(mechanism.hash(clientKey), credential.storedKey) else {
            throw invalidCredentials
        }
        let serverSignature = mechanism.hmac(key: credential.serverKey, authMessage)
        state = .complete
        authenticatedUser = user
        return Array("v=\(Data(serverSignature).base64EncodedString())".utf8)
    }

    /// `key=value` attributes of a SCRAM message (the first `=` splits).
    static func attributes(_ message: String) -> [String: String] {
        var result: [String: String] = [:]
        for field in message.split(separator: ",") {
            guard let equals = field.firstIndex(of: "=") else { continue }
            result[String(field[..<equals])] = String(field[field.index(after: equals)...])
        }
        return result
    }

    /// RFC 5802 saslname: `=2C` is `,` and `=3D` is `=`; any other `=` is invalid.
    static func decodeSaslName(_ name: String) -> String? {
        var result = ""
        var rest = Substring(name)
        while let equals = rest.firstIndex(of: "=") {
            result += rest[..<equals]
            let code = rest[rest.index(after: equals)...].prefix(2)
            switch code {
            case "2C": result += ","
            case "3D": result += "="
            default: return nil
            }
            rest = rest[rest.index(equals, offsetBy: 3)...]
        }
        return result + rest
    }

    private static func randomNonce() -> String {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        return String((0..<32).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
    }
}
