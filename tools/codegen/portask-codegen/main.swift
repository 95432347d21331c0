import CodegenKit
import Foundation

/// portask-codegen SCHEMA_DIR [--errors ERROR_CODES_TSV] [--out SOURCES_DIR] [--tests TEST_SAMPLES_DIR]
///
/// Generates KafkaProtocol's message types from Kafka's JSON schemas.
let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.isEmpty || arguments.contains("--help") {
    print("""
        usage: portask-codegen SCHEMA_DIR [--errors FILE] [--out DIR] [--tests DIR]
          SCHEMA_DIR  directory of Kafka message schemas (*.json)
          --errors    error-code table (code<TAB>name); default SCHEMA_DIR/../error-codes.tsv when present
          --out       where message sources go (default Sources/KafkaProtocol/Generated)
          --tests     where test sample builders go (default Tests/KafkaProtocolTests/Generated)
        """)
    exit(arguments.isEmpty ? 2 : 0)
}

func option(_ name: String) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}

do {
    let schemas = URL(fileURLWithPath: arguments[0])
    let defaultErrors = schemas.deletingLastPathComponent().appendingPathComponent("error-codes.tsv")
    let errors = option("--errors").map(URL.init(fileURLWithPath:))
        ?? (FileManager.default.fileExists(atPath: defaultErrors.path) ? defaultErrors : nil)
    let generator = try Generator(schemaDirectory: schemas, errorCodes: errors)
    let sources = try generator.sources()
    let samples = try generator.testSamples()
    try Generator.write(sources, to: URL(fileURLWithPath: option("--out") ?? "Sources/KafkaProtocol/Generated"))
    try Generator.write(samples, to: URL(fileURLWithPath: option("--tests") ?? "Tests/KafkaProtocolTests/Generated"))
    print("generated \(sources.count) source files and \(samples.count) sample files from \(generator.messages.count) schemas")
} catch {
    FileHandle.standardError.write(Data("portask-codegen: \(error)\n".utf8))
    exit(1)
}
