import Foundation
import Testing
@testable import CodegenKit

struct SchemaLoaderTests {
    @Test func load_stripsCommentsAndReadsNestedAndCommonStructs() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("codegen-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let schema = """
            // A comment line.
            {
              "apiKey": 99, "type": "request", "name": "SampleRequest",
              "validVersions": "0-3", "flexibleVersions": "2+",
              "fields": [
                { "name": "Items", "type": "[]Item", "versions": "0+", "fields": [
                  // Another comment.
                  { "name": "Id", "type": "int32", "versions": "0+", "default": "-1" }
                ]},
                { "name": "Shared", "type": "Common", "versions": "1+", "nullableVersions": "1+", "default": "null" },
                { "name": "Hint", "type": "string", "versions": "2+", "taggedVersions": "2+", "tag": 0,
                  "nullableVersions": "2+", "default": "null" }
              ],
              "commonStructs": [
                { "name": "Common", "versions": "0+", "fields": [ { "name": "Flag", "type": "bool", "versions": "0+" } ] }
              ]
            }
            """
        let url = directory.appendingPathComponent("SampleRequest.json")
        try schema.write(to: url, atomically: true, encoding: .utf8)
        let message = try SchemaLoader.load(url)
        #expect(message.apiKey == 99)
        #expect(message.flexibleVersions == VersionRange(lowest: 2, highest: nil))
        #expect(message.structs.map(\.name) == ["Item", "Common"])
        #expect(message.root.fields[0].type == .array(.structure("Item")))
        #expect(message.root.fields[2].tag == 0)
        let source = try MessageEmitter(message: message).emit()
        #expect(source.contains("public var items: [Item]"))
        #expect(source.contains("public var shared: Common?"))
        #expect(source.contains("case 0 where version >= 2:"))
        #expect(!source.contains("A comment line"))
    }
}
