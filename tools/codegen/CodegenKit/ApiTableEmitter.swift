import Foundation

/// Emits the `ApiKey` table: one case per API with its versions and header versions.
struct ApiTableEmitter {
    let requests: [MessageSpec]
    let responses: [String: MessageSpec]

    static func apiName(_ message: MessageSpec) -> String {
        for suffix in ["Request", "Response"] where message.name.hasSuffix(suffix) {
            return String(message.name.dropLast(suffix.count))
        }
        return message.name
    }

    static func caseName(_ message: MessageSpec) -> String {
        SwiftNames.property(apiName(message))
    }

    func emit() throws -> String {
        let sorted = requests.sorted { ($0.apiKey ?? 0) < ($1.apiKey ?? 0) }
        var lines: [String] = []
        lines.append("/// Every Kafka API this codec knows, by key, with the facts of its schema.")
        lines.append("///")
        lines.append("/// Header versions follow Kafka's rules: flexible requests use request header v2, others v1")
        lines.append("/// (ControlledShutdown v0 uses v0); flexible responses use response header v1, others v0, and")
        lines.append("/// ApiVersions responses always use v0 so any client can read them. Immutable; thread-safe.")
        lines.append("public enum ApiKey: Int16, Sendable, CaseIterable {")
        for message in sorted {
            guard let key = message.apiKey else { throw CodegenError("\(message.name) has no apiKey") }
            lines.append("    case \(Self.caseName(message)) = \(key)")
        }
        lines.append("")
        lines += switchProperty("name", type: "String", sorted) { SwiftNames.stringLiteral(Self.apiName($0)) }
        lines.append("")
        lines += switchProperty("validVersions", type: "ClosedRange<Int16>", sorted) {
            "\($0.validVersions.lowest)...\($0.validVersions.highest ?? $0.validVersions.lowest)"
        }
        lines.append("")
        lines += switchProperty("firstFlexibleVersion", type: "Int16?", sorted) {
            let flexible = $0.flexibleVersions.intersection($0.validVersions)
            return flexible.isEmpty ? "nil" : "\(flexible.lowest)"
        }
        lines.append("")
        lines.append("    /// True when the schema marks its newest version as still unstable.")
        lines += switchProperty("latestVersionUnstable", type: "Bool", sorted, doc: false) {
            $0.latestVersionUnstable ? "true" : "false"
        }
        lines.append("")
        lines.append("    /// The listeners that serve this API in Kafka: \"broker\", \"controller\" and/or \"zkBroker\".")
        lines += switchProperty("listeners", type: "[String]", sorted, doc: false) {
            "[" + $0.listeners.map(SwiftNames.stringLiteral).joined(separator: ", ") + "]"
        }
        lines.append("")
        lines += switchProperty("requestType", type: "any KafkaRequestMessage.Type", sorted) { "\($0.name).self" }
        lines.append("")
        lines += try switchProperty("responseType", type: "any KafkaResponseMessage.Type", sorted) {
            let name = Self.apiName($0) + "Response"
            guard responses[name] != nil else { throw CodegenError("no response schema for \($0.name)") }
            return "\(name).self"
        }
        lines.append("")
        lines.append("    /// True when `version` is one of this API's flexible versions.")
        lines.append("    public func isFlexible(_ version: Int16) -> Bool {")
        lines.append("        firstFlexibleVersion.map { version >= $0 } ?? false")
        lines.append("    }")
        lines.append("")
        lines.append("    /// The request header version used with `version` of this API.")
        lines.append("    public func requestHeaderVersion(_ version: Int16) -> Int16 {")
        lines.append("        if self == .controlledShutdown && version == 0 { return 0 }")
        lines.append("        return isFlexible(version) ? 2 : 1")
        lines.append("    }")
        lines.append("")
        lines.append("    /// The response header version used with `version` of this API.")
        lines.append("    public func responseHeaderVersion(_ version: Int16) -> Int16 {")
        lines.append("        if self == .apiVersions { return 0 }")
        lines.append("        return isFlexible(version) ? 1 : 0")
        lines.append("    }")
        lines.append("}")
        return MessageEmitter.banner + "\n" + lines.joined(separator: "\n") + "\n"
    }

    private func switchProperty(
        _ name: String, type: String, _ messages: [MessageSpec], doc: Bool = true,
        _ value: (MessageSpec) throws -> String
    ) rethrows -> [String] {
        var lines: [String] = []
        if doc { lines.append("    /// The schema's `\(name)` of this API.") }
        lines.append("    public var \(name): \(type) {")
        lines.append("        switch self {")
        for message in messages {
            lines.append("        case .\(Self.caseName(message)): return \(try value(message))")
        }
        lines.append("        }")
        lines.append("    }")
        return lines
    }
}

/// Emits `KafkaErrorCode` from the protocol's error-code table (tab-separated "code<TAB>name" lines).
struct ErrorCodeEmitter {
    let table: String

    func emit() throws -> String {
        var entries: [(code: Int, name: String)] = []
        for line in table.split(separator: "\n").dropFirst() {
            let columns = line.split(separator: "\t")
            guard columns.count >= 2, let code = Int(columns[0]) else { continue }
            entries.append((code, String(columns[1]).trimmingCharacters(in: .whitespaces)))
        }
        guard !entries.isEmpty else { throw CodegenError("error-code table is empty") }
        func caseName(_ name: String) -> String { name == "NONE" ? "noError" : SwiftNames.caseName(fromUpperSnake: name) }
        var lines: [String] = []
        lines.append("/// Kafka's protocol error codes, as carried in `errorCode` fields. `noError` is Kafka's NONE (0).")
        lines.append("public enum KafkaErrorCode: Int16, Sendable, CaseIterable, CustomStringConvertible {")
        for entry in entries { lines.append("    case \(caseName(entry.name)) = \(entry.code)") }
        lines.append("")
        lines.append("    /// Kafka's name for the error, e.g. `UNKNOWN_TOPIC_OR_PARTITION`.")
        lines.append("    public var name: String {")
        lines.append("        switch self {")
        for entry in entries { lines.append("        case .\(caseName(entry.name)): return \"\(entry.name)\"") }
        lines.append("        }")
        lines.append("    }")
        lines.append("")
        lines.append("    public var description: String { \"\\(name) (\\(rawValue))\" }")
        lines.append("}")
        return MessageEmitter.banner + "\n" + lines.joined(separator: "\n") + "\n"
    }
}
