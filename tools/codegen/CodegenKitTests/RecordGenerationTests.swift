import Foundation
import Testing
@testable import CodegenKit

struct RecordGenerationTests {
    static func withSchemas(_ records: [String: String], _ body: (URL, URL) throws -> Void) throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("codegen-\(UUID().uuidString)")
        let messages = root.appendingPathComponent("messages")
        let recordDirectory = root.appendingPathComponent("records")
        for directory in [messages, recordDirectory] {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }
        defer { try? FileManager.default.removeItem(at: root) }
        for (name, text) in records {
            try text.write(to: recordDirectory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        try body(messages, recordDirectory)
    }

    static let value = """
        {
          "type": "data", "name": "SampleValue", "validVersions": "0-1", "flexibleVersions": "1+",
          "fields": [
            { "name": "Names", "type": "[]string", "versions": "0+" },
            { "name": "Blob", "type": "bytes", "versions": "0+" }
          ]
        }
        """

    @Test func records_areCoordinatorRecordsWithCheckedWriters() throws {
        try Self.withSchemas(["SampleValue.json": Self.value]) { messages, records in
            let generator = try Generator(schemaDirectory: messages, errorCodes: nil, recordDirectory: records)
            let source = try #require(try generator.recordSources()["SampleValue.swift"])
            #expect(source.hasPrefix(MessageEmitter.recordBanner))
            #expect(source.contains("public struct SampleValue: KafkaCoordinatorRecord"))
            #expect(source.contains("writeBoundedString(element, compact: flexible"))
            #expect(source.contains("writeCheckedArrayCount(self.names.count"))
            #expect(source.contains("writeCheckedBytes(self.blob"))
            #expect(!source.contains("writeString("))
            let samples = try generator.recordTestSamples()
            #expect(Set(samples.keys) == ["SampleValue+Sample.swift", "AllRecordSamples.swift"])
            #expect(try generator.sources()["SampleValue.swift"] == nil)
        }
    }

    @Test func records_whenASchemaIsNotData_areRefused() throws {
        let request = Self.value.replacingOccurrences(of: "\"data\"", with: "\"request\"")
        try Self.withSchemas(["SampleValue.json": request]) { messages, records in
            #expect(throws: CodegenError.self) {
                try Generator(schemaDirectory: messages, errorCodes: nil, recordDirectory: records)
            }
        }
    }

    @Test func withoutARecordDirectory_nothingIsGeneratedForRecords() throws {
        try Self.withSchemas([:]) { messages, _ in
            let generator = try Generator(schemaDirectory: messages, errorCodes: nil)
            #expect(try generator.recordSources().isEmpty && generator.recordTestSamples().isEmpty)
        }
    }
}

extension RecordGenerationTests {
    @Test func taggedField_withoutVersions_isPresentInItsTaggedVersions() throws {
        let schema = """
            {
              "type": "data", "name": "TaggedValue", "validVersions": "0-1", "flexibleVersions": "1+",
              "fields": [
                { "name": "Id", "type": "int64", "versions": "0+" },
                { "name": "Next", "type": "int64", "taggedVersions": "1+", "tag": 0, "default": -1 }
              ]
            }
            """
        try Self.withSchemas(["TaggedValue.json": schema]) { messages, records in
            let generator = try Generator(schemaDirectory: messages, errorCodes: nil, recordDirectory: records)
            let field = try #require(generator.records.first?.root.fields.last)
            #expect(field.versions == field.taggedVersions && field.tag == 0)
        }
    }
}
