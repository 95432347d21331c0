import Foundation

/// Emits test-only sample builders: for each struct, a populated value for a given version, with every field that
/// the version carries set to a non-default value derived from a seed (nullable ones sometimes null).
struct SampleEmitter {
    let message: MessageSpec
    /// Whether the schema is an internal-topic record (see ``MessageEmitter/record``).
    var record = false

    func emit() throws -> String {
        let banner = record ? MessageEmitter.recordBanner : MessageEmitter.banner
        var out = banner + "import KafkaProtocol\nimport NIOCore\n"
        out += "\n" + emitBuilder(message.root, typeName: message.name)
        for structure in message.structs {
            out += "\n" + emitBuilder(structure, typeName: "\(message.name).\(structure.name)")
        }
        return out
    }

    private func emitBuilder(_ structure: StructSpec, typeName: String) -> String {
        let valid = message.validVersions
        var lines: [String] = []
        lines.append("extension \(typeName) {")
        lines.append("    static func sample(version: Int16, seed: Int, depth: Int = 0) -> \(typeName) {")
        lines.append("        var value = \(typeName)()")
        for (index, spec) in structure.fields.enumerated() {
            let model = FieldModel(spec: spec, valid: valid, flexible: message.flexibleVersions)
            let condition = model.presentCondition
            if condition == "false" { continue }
            var expression = sampleExpression(spec.type, index: index + 1, seed: "seed")
            if model.isNullableSomewhere && spec.type != .records {
                expression = "(\(model.nullableCondition)) && seed % 5 == 4 ? nil : \(expression)"
            }
            let assignment = "value.\(model.property) = \(expression)"
            lines.append(condition == "true"
                ? "        \(assignment)" : "        if \(condition) { \(assignment) }")
        }
        let flexible = message.flexibleVersions.condition(within: valid)
        if flexible != "false" {
            let assignment = "value.unknownTaggedFields = [UnknownTaggedField(tag: 9000, data: ByteBuffer(bytes: [7, UInt8(truncatingIfNeeded: seed)]))]"
            lines.append("        if \(flexible == "true" ? "" : "(\(flexible)) && ")depth == 0 { \(assignment) }")
        }
        lines.append("        return value")
        lines.append("    }")
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    private func sampleExpression(_ type: FieldType, index: Int, seed: String) -> String {
        switch type {
        case .bool: return "(\(seed) + \(index)) % 2 == 0"
        case .int8, .int16, .int32, .int64, .uint16, .uint32:
            return "\(FieldModel.swiftType(type))(truncatingIfNeeded: \(seed) &* 31 &+ \(index * 7 + 1))"
        case .float64: return "Double(\(seed)) + 0.25"
        case .string: return "\"f\(index)-\\(\(seed))\""
        case .bytes: return "ByteBuffer(bytes: [UInt8(truncatingIfNeeded: \(seed)), 0xAB, \(index % 256)])"
        case .records:
            return "RecordSet(bytes: ByteBuffer(bytes: [UInt8](repeating: UInt8(truncatingIfNeeded: \(seed)), count: \(index + 3))))"
        case .uuid: return "KafkaUUID(high: UInt64(truncatingIfNeeded: \(seed) + 1), low: \(index))"
        case .array(let element):
            let elementExpression = sampleExpression(element, index: index, seed: "(\(seed) &* 3 &+ item)")
            return "(0..<(depth < 2 ? 2 : 1)).map { item in \(elementExpression) }"
        case .structure(let name):
            return "\(message.name).\(name).sample(version: version, seed: \(seed) &+ \(index), depth: depth + 1)"
        }
    }

    static func emitRegistry(_ messages: [MessageSpec]) -> String {
        emitRegistry(messages, name: "allMessageSamples", noun: "message", banner: MessageEmitter.banner)
    }

    /// The registry of the internal-topic records' sample builders.
    static func emitRecordRegistry(_ records: [MessageSpec]) -> String {
        emitRegistry(records, name: "allRecordSamples", noun: "internal-topic record", banner: MessageEmitter.recordBanner)
    }

    private static func emitRegistry(_ messages: [MessageSpec], name: String, noun: String, banner: String) -> String {
        var lines: [String] = []
        lines.append("/// Every generated \(noun) with its sample builder, for the round-trip tests.")
        lines.append("let \(name): [MessageSampleCase] = [")
        for message in messages {
            lines.append("    MessageSampleCase(\(message.name).self) { \(message.name).sample(version: $0, seed: $1) },")
        }
        lines.append("]")
        return banner + "import KafkaProtocol\n\n" + lines.joined(separator: "\n") + "\n"
    }
}
