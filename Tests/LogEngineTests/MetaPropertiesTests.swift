import Testing
@testable import LogEngine

struct MetaPropertiesTests {
    @Test func text_roundTrips() throws {
        let meta = MetaProperties(clusterID: "abc", nodeID: 7, directoryID: "dir")
        #expect(try MetaProperties(parsing: meta.text) == meta)
    }

    @Test func parsing_acceptsKafkaFileWithCommentsAndBrokerID() throws {
        let text = "#\n#Sun Nov 22 03:00:00 UTC 2026\nbroker.id=2\nversion=0\ncluster.id=XyZ\n"
        let meta = try MetaProperties(parsing: text)
        #expect(meta.nodeID == 2 && meta.version == 0 && meta.clusterID == "XyZ")
    }

    @Test func parsing_whenClusterIDMissing_throws() {
        #expect(throws: LogEngineError.self) { try MetaProperties(parsing: "version=1\nnode.id=1\n") }
    }

    @Test func randomID_isBase64URLOf16Bytes() {
        let id = MetaProperties.randomID()
        #expect(id.count == 22)
        #expect(id.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        #expect(id != MetaProperties.randomID())
    }
}
