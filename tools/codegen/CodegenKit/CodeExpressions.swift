/// Swift expressions that read and write one value of a field type.
enum CodeExpressions {
    /// An expression reading a value of `type` from `buffer` (a `ByteBuffer` variable).
    static func read(
        _ type: FieldType, nullable: String, compact: String, buffer: String, field: String
    ) -> String {
        let label = SwiftNames.stringLiteral(field)
        switch type {
        case .bool: return "\(buffer).readKafkaBool(field: \(label))"
        case .int8, .int16, .int32, .int64, .uint16, .uint32:
            return "\(buffer).readKafkaInteger(\(FieldModel.swiftType(type)).self, field: \(label))"
        case .float64: return "\(buffer).readKafkaFloat64(field: \(label))"
        case .uuid: return "\(buffer).readKafkaUUID(field: \(label))"
        case .records: return "\(buffer).readKafkaRecords(compact: \(compact), field: \(label))"
        case .string, .bytes:
            let noun = type == .string ? "String" : "Bytes"
            let nullableRead = "\(buffer).readKafkaNullable\(noun)(compact: \(compact), field: \(label))"
            let plainRead = "\(buffer).readKafka\(noun)(compact: \(compact), field: \(label))"
            return choose(nullable, nullableRead, plainRead)
        case .array(let element):
            let elementRead = read(element, nullable: "false", compact: compact, buffer: "$0", field: field)
            let nullableRead = "\(buffer).readKafkaNullableArray(compact: \(compact), field: \(label)) { try \(elementRead) }"
            let plainRead = "\(buffer).readKafkaArray(compact: \(compact), field: \(label)) { try \(elementRead) }"
            return choose(nullable, nullableRead, plainRead)
        case .structure(let name):
            let plainRead = "\(name)(from: &\(buffer), version: version)"
            let nullableRead =
                "\(buffer).readKafkaInteger(Int8.self, field: \(label)) < 0 ? nil : \(plainRead)"
            return choose(nullable, "(\(nullableRead))", plainRead)
        }
    }

    private static func choose(_ condition: String, _ whenTrue: String, _ whenFalse: String) -> String {
        switch condition {
        case "true": return whenTrue
        case "false": return whenFalse
        default: return "(\(condition)) ? \(whenTrue) : \(whenFalse)"
        }
    }

    /// Statements writing `value` of `type` to `writer` (a `KafkaWriter` variable). `checked` (record schemas)
    /// uses the writers that throw for any string past 32767 bytes and any length past an int32.
    static func write(
        _ type: FieldType, value: String, optional: Bool, nullable: String, compact: String, writer: String,
        field: String, indent: String, checked: Bool = false
    ) -> [String] {
        let label = SwiftNames.stringLiteral(field)
        var lines: [String] = []
        if optional && nullable != "true" && type != .records {
            let guardCondition = nullable == "false" ? "\(value) != nil" : "(\(nullable)) || \(value) != nil"
            lines.append("guard \(guardCondition) else {")
            lines.append("    throw KafkaProtocolError(.unencodable, \(SwiftNames.stringLiteral(field + " is null in a version where it is not nullable")))")
            lines.append("}")
        }
        switch type {
        case .bool: lines.append("\(writer).writeBool(\(value))")
        case .int8, .int16, .int32, .int64, .uint16, .uint32: lines.append("\(writer).writeInteger(\(value))")
        case .float64: lines.append("\(writer).writeFloat64(\(value))")
        case .uuid: lines.append("\(writer).writeUUID(\(value))")
        case .records: lines.append("\(writer).writeRecords(\(value), compact: \(compact))")
        case .string:
            let method = checked ? "writeBoundedString" : "writeString"
            lines.append("try \(writer).\(method)(\(value), compact: \(compact), field: \(label))")
        case .bytes:
            lines.append(checked
                ? "try \(writer).writeCheckedBytes(\(value), compact: \(compact), field: \(label))"
                : "\(writer).writeBytes(\(value), compact: \(compact))")
        case .array(let element):
            let elementLines = write(
                element, value: "element", optional: false, nullable: "false", compact: compact, writer: writer,
                field: field, indent: "", checked: checked)
            func count(_ expression: String) -> String {
                checked
                    ? "try \(writer).writeCheckedArrayCount(\(expression), compact: \(compact), field: \(label))"
                    : "\(writer).writeArrayCount(\(expression), compact: \(compact))"
            }
            if optional {
                lines.append("if let array = \(value) {")
                lines.append("    " + count("array.count"))
                lines.append("    for element in array {")
                lines += elementLines.map { "        " + $0 }
                lines.append("    }")
                lines.append("} else {")
                lines.append("    " + count("nil"))
                lines.append("}")
            } else {
                lines.append(count("\(value).count"))
                lines.append("for element in \(value) {")
                lines += elementLines.map { "    " + $0 }
                lines.append("}")
            }
        case .structure:
            if optional {
                lines.append("if let structure = \(value) {")
                lines.append("    \(writer).writeInteger(Int8(1))")
                lines.append("    try structure.encode(to: &\(writer), version: version)")
                lines.append("} else {")
                lines.append("    \(writer).writeInteger(Int8(-1))")
                lines.append("}")
            } else {
                lines.append("try \(value).encode(to: &\(writer), version: version)")
            }
        }
        return lines.map { indent + $0 }
    }
}
