import Foundation
import Testing
@testable import PortaskBroker

/// SASL/OAUTHBEARER: the client's initial response, Kafka's unsecured-token validation and hostile input.
struct OAuthBearerTests {
    static func segment(_ json: String) -> String {
        Data(json.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func token(_ claims: String, header: String = #"{"alg":"none"}"#) -> String {
        "\(segment(header)).\(segment(claims))."
    }

    static let now: Int64 = 1_800_000_000_000

    @Test func initialResponse_parsesTheGs2HeaderTokenAndExtensions() {
        let parsed = OAuthBearerSaslServer.parse(Array("n,a=alice,\u{1}auth=Bearer abc.def.\u{1}traceId=42 x\u{1}\u{1}".utf8))
        #expect(parsed == OAuthBearerSaslServer.InitialResponse(authorizationId: "alice", token: "abc.def.", extensions: ["traceId": "42 x"]))
        #expect(OAuthBearerSaslServer.parse(Array("n,,\u{1}auth=bearer t\u{1}\u{1}".utf8))?.token == "t")
        for malformed in ["", "n,,", "y,,\u{1}auth=Bearer t\u{1}\u{1}", "n,,\u{1}auth=Bearer t\u{1}",
                          "n,,\u{1}auth=Basic t\u{1}\u{1}", "n,,\u{1}auth=Bearer t t\u{1}\u{1}",
                          "n,,\u{1}auth=Bearer t\u{1}auth=Bearer u\u{1}\u{1}", "n,,\u{1}k1=v\u{1}auth=Bearer t\u{1}\u{1}",
                          "n,,\u{1}noequals\u{1}\u{1}", "n,x=y,\u{1}auth=Bearer t\u{1}\u{1}"] {
            #expect(OAuthBearerSaslServer.parse(Array(malformed.utf8)) == nil, "\(malformed)")
        }
        #expect(OAuthBearerSaslServer.parse([0xFF, 0xFE]) == nil)
    }

    @Test func unsecuredValidator_acceptsValidTokensAndRefusesKafkasFailures() throws {
        let validator = try OAuthBearerUnsecuredValidator(options: [
            "unsecuredValidatorRequiredScope": "read write", "unsecuredValidatorAllowableClockSkewMs": "1000"])
        let exp = Self.now / 1000 + 60
        #expect(try validator.principal(of: Self.token(#"{"sub":"alice","exp":\#(exp),"scope":"read write x"}"#), nowMs: Self.now) == "alice")
        #expect(try validator.principal(of: Self.token(#"{"sub":"bob","exp":\#(exp),"iat":1,"scope":["write","read"]}"#), nowMs: Self.now) == "bob")
        func refusal(_ token: String) -> String? {
            do {
                _ = try validator.principal(of: token, nowMs: Self.now)
                return nil
            } catch {
                return error.status
            }
        }
        #expect(refusal(Self.token(#"{"sub":"a","exp":\#(exp)}"#)) == "insufficient_scope")
        #expect(refusal(Self.token(#"{"sub":"a","exp":\#(Self.now / 1000 - 2),"scope":"read write"}"#)) == "invalid_token")
        #expect(refusal(Self.token(#"{"sub":"a","exp":\#(exp),"iat":\#(exp - 1 + 3600),"scope":"read write"}"#)) == "invalid_token")
        #expect(refusal(Self.token(#"{"sub":"a","scope":"read write"}"#)) == "invalid_token")
        #expect(refusal(Self.token(#"{"sub":"","exp":\#(exp),"scope":"read write"}"#)) == "invalid_token")
        #expect(refusal(Self.token(#"{"sub":"a","exp":"soon","scope":"read write"}"#)) == "invalid_token")
        #expect(refusal(Self.token(#"{"sub":"a","exp":\#(exp),"scope":"read write"}"#, header: #"{"alg":"RS256"}"#)) == "invalid_token")
        #expect(refusal(Self.token(#"{"sub":"a","exp":1e400,"scope":"read write"}"#)) == "invalid_token")
        #expect(refusal(Self.token(#"{"sub":"a","exp":\#(exp),"scope":"read write"}"#) + "sig") == "invalid_token")
        #expect(refusal("a.b") == "invalid_token")
        #expect(refusal("!!.??.") == "invalid_token")
        #expect(refusal(Self.segment(#"{"alg":"none"}"#) + "." + Self.segment(String(repeating: "[", count: 5000)) + ".") == "invalid_token")
        #expect(refusal(String(repeating: "a", count: OAuthBearerUnsecuredValidator.maximumTokenBytes + 1)) == "invalid_token")
        #expect(throws: BrokerError.self) {
            try OAuthBearerUnsecuredValidator(options: ["unsecuredValidatorAllowableClockSkewMs": "-1"])
        }
    }

    @Test func saslServer_sendsTheJsonErrorThenFailsOnTheClientsAcknowledgement() throws {
        let validator = try OAuthBearerUnsecuredValidator(options: [:])
        let expired = Self.token(#"{"sub":"alice","exp":1}"#)
        let server = OAuthBearerSaslServer(validator: validator, clock: { OAuthBearerTests.now })
        let challenge = try server.evaluate(Array("n,,\u{1}auth=Bearer \(expired)\u{1}\u{1}".utf8))
        #expect(String(decoding: challenge, as: UTF8.self) == #"{"status":"invalid_token"}"#)
        #expect(!server.isComplete)
        #expect(throws: SaslFailure.self) { try server.evaluate([1]) }

        let valid = Self.token(#"{"sub":"alice","exp":\#(Self.now / 1000 + 60)}"#)
        let accepting = OAuthBearerSaslServer(validator: validator, clock: { OAuthBearerTests.now })
        #expect(try accepting.evaluate(Array("n,,\u{1}auth=Bearer \(valid)\u{1}\u{1}".utf8)).isEmpty)
        #expect(accepting.isComplete && accepting.authenticatedUser == "alice")
        let impostor = OAuthBearerSaslServer(validator: validator, clock: { OAuthBearerTests.now })
        #expect(throws: SaslFailure.self) { try impostor.evaluate(Array("n,a=bob,\u{1}auth=Bearer \(valid)\u{1}\u{1}".utf8)) }
    }
}
