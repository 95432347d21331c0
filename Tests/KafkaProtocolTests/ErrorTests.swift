import Testing
@testable import KafkaProtocol

@Test func error_describesItself() {
    #expect(KafkaProtocolError("bad").description == "bad")
}
