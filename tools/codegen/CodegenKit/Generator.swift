import Foundation

/// Generates the KafkaProtocol sources (and the matching test samples) from a directory of Kafka message schemas
/// and, optionally, a directory of the coordinators' internal-topic record schemas.
///
/// Deterministic: the same schemas always give byte-identical output.
public struct Generator {
    public let messages: [MessageSpec]
    /// The internal-topic record schemas (keys and values), empty without a record directory.
    public let records: [MessageSpec]
    public let errorTable: String?

    /// Loads every `*.json` schema in `schemaDirectory`; header schemas are left to the hand-written headers.
    /// `errorCodes` is the optional path of the error-code table; `recordDirectory` the optional directory of
    /// record schemas (`type: data`, one file per key or value).
    public init(schemaDirectory: URL, errorCodes: URL?, recordDirectory: URL? = nil) throws {
        messages = try Self.load(schemaDirectory).filter { $0.kind != "header" }
        records = try recordDirectory.map(Self.load) ?? []
        if let bad = records.first(where: { $0.kind != "data" }) {
            throw CodegenError("\(bad.name): a record schema must have type data, not \(bad.kind)")
        }
        errorTable = try errorCodes.map { try String(contentsOf: $0, encoding: .utf8) }
    }

    private static func load(_ directory: URL) throws -> [MessageSpec] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".json") }
            .sorted()
            .map { try SchemaLoader.load(directory.appendingPathComponent($0)) }
    }

    /// The generated sources: file name → contents, for `Sources/KafkaProtocol/Generated/`.
    public func sources() throws -> [String: String] {
        var files: [String: String] = [:]
        for message in messages {
            files["\(message.name).swift"] = try MessageEmitter(message: message).emit()
        }
        let requests = messages.filter { $0.kind == "request" }
        let responses = Dictionary(
            messages.filter { $0.kind == "response" }.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        files["ApiKey.swift"] = try ApiTableEmitter(requests: requests, responses: responses).emit()
        if let errorTable {
            files["KafkaErrorCode.swift"] = try ErrorCodeEmitter(table: errorTable).emit()
        }
        return files
    }

    /// Sample builders for round-trip tests: file name → contents, for `Tests/KafkaProtocolTests/Generated/`.
    public func testSamples() throws -> [String: String] {
        var files: [String: String] = [:]
        for message in messages {
            files["\(message.name)+Sample.swift"] = try SampleEmitter(message: message).emit()
        }
        files["AllMessageSamples.swift"] = SampleEmitter.emitRegistry(messages)
        return files
    }

    /// The generated record sources: file name → contents, for `Sources/KafkaProtocol/Generated/Records/`.
    public func recordSources() throws -> [String: String] {
        var files: [String: String] = [:]
        for record in records {
            files["\(record.name).swift"] = try MessageEmitter(message: record, record: true).emit()
        }
        return files
    }

    /// Record sample builders: file name → contents, for `Tests/KafkaProtocolTests/Generated/Records/`.
    public func recordTestSamples() throws -> [String: String] {
        guard !records.isEmpty else { return [:] }
        var files: [String: String] = [:]
        for record in records {
            files["\(record.name)+Sample.swift"] = try SampleEmitter(message: record, record: true).emit()
        }
        files["AllRecordSamples.swift"] = SampleEmitter.emitRecordRegistry(records)
        return files
    }

    /// Writes `files` into `directory`, removing generated files that no longer belong there.
    public static func write(_ files: [String: String], to directory: URL) throws {
        let manager = FileManager.default
        try manager.createDirectory(at: directory, withIntermediateDirectories: true)
        for existing in try manager.contentsOfDirectory(atPath: directory.path)
        where existing.hasSuffix(".swift") && files[existing] == nil {
            try manager.removeItem(at: directory.appendingPathComponent(existing))
        }
        for (name, contents) in files.sorted(by: { $0.key < $1.key }) {
            let url = directory.appendingPathComponent(name)
            if (try? String(contentsOf: url, encoding: .utf8)) != contents {
                try contents.write(to: url, atomically: true, encoding: .utf8)
            }
        }
    }
}
