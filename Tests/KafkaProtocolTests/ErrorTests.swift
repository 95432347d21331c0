import Testing
@testable import KafkaProtocol

@Test func error_describesCodeAndMessage() {
    #expect(KafkaProtocolError(.invalid, "bad").description == "invalid: bad")
}
