import Foundation

/// A schema field resolved against its message: Swift names, types, defaults and version conditions.
struct FieldModel {
    let spec: FieldSpec
    let valid: VersionRange
    let flexible: VersionRange

    var property: String { SwiftNames.property(spec.name) }
    var label: String { SwiftNames.label(spec.name) }
    var access: String { "self.\(property)" }

    /// Versions (within the message's valid versions) in which the field is present at all.
    var present: VersionRange { spec.versions.intersection(valid) }
    /// Versions in which the field travels in the tagged section.
    var tagged: VersionRange { spec.taggedVersions.intersection(present) }
    var isEverTagged: Bool { !tagged.isEmpty && spec.tag != nil }
    var isEverRegular: Bool { !present.isEmpty && !(isEverTagged && tagged == present) }

    /// Condition for the field being written in the regular (positional) part.
    var regularCondition: String {
        if !isEverTagged { return present.condition(within: valid) }
        let taggedCondition = tagged.condition(within: valid)
        return "(\(present.condition(within: valid))) && !(\(taggedCondition))"
    }

    var taggedCondition: String { tagged.condition(within: valid) }
    var presentCondition: String { present.condition(within: valid) }

    /// The field may be null in some present version.
    var isNullableSomewhere: Bool { !spec.nullableVersions.intersection(present).isEmpty }
    var isNullableEverywhere: Bool { isNullableSomewhere && present.isSubset(of: spec.nullableVersions, within: valid) }
    var nullableCondition: String {
        if !isNullableSomewhere { return "false" }
        if isNullableEverywhere { return "true" }
        return spec.nullableVersions.condition(within: valid)
    }

    /// Whether strings, bytes and arrays use compact forms: the message's flexible versions, unless overridden.
    var compactExpression: String {
        guard let override = spec.flexibleOverride else { return "flexible" }
        return override.condition(within: valid)
    }

    /// True when the positional encoding of this field depends on the `flexible` flag.
    var needsFlexibleFlag: Bool {
        guard isEverRegular, compactExpression == "flexible" else { return false }
        switch spec.type {
        case .string, .bytes, .records, .array: return true
        default: return false
        }
    }

    var isOptional: Bool {
        if spec.type == .records { return true }
        return isNullableSomewhere
    }

    static func swiftType(_ type: FieldType) -> String {
        switch type {
        case .bool: return "Bool"
        case .int8: return "Int8"
        case .int16: return "Int16"
        case .int32: return "Int32"
        case .int64: return "Int64"
        case .uint16: return "UInt16"
        case .uint32: return "UInt32"
        case .float64: return "Double"
        case .string: return "String"
        case .bytes: return "ByteBuffer"
        case .records: return "RecordSet"
        case .uuid: return "KafkaUUID"
        case .array(let element): return "[\(swiftType(element))]"
        case .structure(let name): return name
        }
    }

    var swiftType: String { Self.swiftType(spec.type) + (isOptional ? "?" : "") }

    /// The Swift expression of the field's default value.
    func defaultExpression() throws -> String {
        let text = spec.defaultText?.trimmingCharacters(in: .whitespaces)
        if text == "null" {
            guard isOptional else { throw CodegenError("\(spec.name): default null on a non-nullable field") }
            return "nil"
        }
        switch spec.type {
        case .bool:
            switch text {
            case nil, "false", "0": return "false"
            case "true", "1": return "true"
            default: throw CodegenError("\(spec.name): bad bool default \(text ?? "")")
            }
        case .int8, .int16, .int32, .int64, .uint16, .uint32:
            guard let text, !text.isEmpty else { return "0" }
            let body = text.hasPrefix("-") ? String(text.dropFirst()) : text
            let isNumber = body.hasPrefix("0x")
                ? body.dropFirst(2).allSatisfy(\.isHexDigit) : body.allSatisfy(\.isNumber)
            guard isNumber, !body.isEmpty else { throw CodegenError("\(spec.name): bad integer default \(text)") }
            return text
        case .float64:
            guard let text, !text.isEmpty else { return "0" }
            guard Double(text) != nil else { throw CodegenError("\(spec.name): bad float default \(text)") }
            return text
        case .string:
            return SwiftNames.stringLiteral(text ?? "")
        case .bytes:
            return "ByteBuffer()"
        case .records:
            return "nil"
        case .uuid:
            return ".zero"
        case .array:
            return "[]"
        case .structure(let name):
            return "\(name)()"
        }
    }
}
