import Testing
@testable import PortaskBroker

@Test func version_isSemantic() {
    #expect(BrokerVersion.string.split(separator: ".").count == 3)
}
