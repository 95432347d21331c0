import Foundation
import Testing
@testable import CodegenKit

/// The committed generated sources must be exactly what the generator makes from the schemas beside the project.
struct GeneratedFilesAreCurrentTests {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let schemas = packageRoot.deletingLastPathComponent()
        .appendingPathComponent("shared/kafka-protocol/messages")
    static let records = schemas.deletingLastPathComponent().appendingPathComponent("records")

    static var schemasPresent: Bool { FileManager.default.fileExists(atPath: schemas.path) }

    @Test(.enabled(if: schemasPresent, "schemas not found beside the project"))
    func committedSources_matchAFreshGeneration() throws {
        let generator = try Generator(
            schemaDirectory: Self.schemas,
            errorCodes: Self.schemas.deletingLastPathComponent().appendingPathComponent("error-codes.tsv"),
            recordDirectory: Self.records)
        try compare(generator.sources(), with: "Sources/KafkaProtocol/Generated")
        try compare(generator.testSamples(), with: "Tests/KafkaProtocolTests/Generated")
        #expect(generator.records.count == 36)
        try compare(generator.recordSources(), with: "Sources/KafkaProtocol/Generated/Records")
        try compare(generator.recordTestSamples(), with: "Tests/KafkaProtocolTests/Generated/Records")
    }

    @Test(.enabled(if: schemasPresent, "schemas not found beside the project"))
    func generation_isDeterministic() throws {
        let first = try Generator(schemaDirectory: Self.schemas, errorCodes: nil, recordDirectory: Self.records)
        let second = try Generator(schemaDirectory: Self.schemas, errorCodes: nil, recordDirectory: Self.records)
        #expect(try first.sources() == second.sources())
        #expect(try first.recordSources() == second.recordSources())
    }

    private func compare(_ files: [String: String], with relativeDirectory: String) throws {
        let directory = Self.packageRoot.appendingPathComponent(relativeDirectory)
        let committed = Set(try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".swift") })
        #expect(committed == Set(files.keys), "\(relativeDirectory) holds other files than the generator makes")
        for (name, contents) in files {
            let existing = try? String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            #expect(existing == contents, "\(relativeDirectory)/\(name) differs from a fresh generation")
        }
    }
}
