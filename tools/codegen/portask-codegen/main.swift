import CodegenKit
import Foundation

/// portask-codegen SCHEMA_DIR [--records RECORDS_DIR] [--errors ERROR_CODES_TSV] [--out SOURCES_DIR]
///                 [--tests TEST_SAMPLES_DIR]
///
/// Generates KafkaProtocol's message types and internal-topic record types from Kafka's JSON schemas.
let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.isEmpty || arguments.contains("--help") {
    print("""
        usage: portask-codegen SCHEMA_DIR [--records DIR] [--errors FILE] [--out DIR] [--tests DIR]
          SCHEMA_DIR  the kafka-protocol directory (holding messages/ and records/), or directly the directory
                      of Kafka message schemas (*.json)
          --records   directory of internal-topic record schemas; default SCHEMA_DIR/records, or
                      SCHEMA_DIR/../records beside a messages directory, when present
          --errors    error-code table (code<TAB>name); default error-codes.tsv beside messages/ when present
          --out       where message sources go (default Sources/KafkaProtocol/Generated; records go to OUT/Records)
          --tests     where test sample builders go (default Tests/KafkaProtocolTests/Generated; records go to
                      TESTS/Records)
        """)
    exit(arguments.isEmpty ? 2 : 0)
}

func option(_ name: String) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}

func existing(_ url: URL) -> URL? {
    FileManager.default.fileExists(atPath: url.path) ? url : nil
}

do {
    let root = URL(fileURLWithPath: arguments[0])
    let nestedMessages = root.appendingPathComponent("messages")
    let schemas = existing(nestedMessages) ?? root
    let base = schemas.deletingLastPathComponent()
    let errors = option("--errors").map(URL.init(fileURLWithPath:))
        ?? existing(base.appendingPathComponent("error-codes.tsv"))
    let records = option("--records").map(URL.init(fileURLWithPath:))
        ?? existing(base.appendingPathComponent("records"))
    let generator = try Generator(schemaDirectory: schemas, errorCodes: errors, recordDirectory: records)
    let out = URL(fileURLWithPath: option("--out") ?? "Sources/KafkaProtocol/Generated")
    let tests = URL(fileURLWithPath: option("--tests") ?? "Tests/KafkaProtocolTests/Generated")
    let sources = try generator.sources()
    let samples = try generator.testSamples()
    try Generator.write(sources, to: out)
    try Generator.write(samples, to: tests)
    let recordSources = try generator.recordSources()
    if !recordSources.isEmpty {
        try Generator.write(recordSources, to: out.appendingPathComponent("Records"))
        try Generator.write(try generator.recordTestSamples(), to: tests.appendingPathComponent("Records"))
    }
    print("generated \(sources.count) source files and \(samples.count) sample files from \(generator.messages.count) "
        + "message schemas, \(recordSources.count) record files from \(generator.records.count) record schemas")
} catch {
    FileHandle.standardError.write(Data("portask-codegen: \(error)\n".utf8))
    exit(1)
}
