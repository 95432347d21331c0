import Foundation

/// The kind of value a schema field holds.
public indirect enum FieldType: Equatable, Sendable {
    case bool, int8, int16, int32, int64, uint16, uint32, float64, string, bytes, records, uuid
    case array(FieldType)
    case structure(String)

    init(parsing text: String) {
        if text.hasPrefix("[]") { self = .array(FieldType(parsing: String(text.dropFirst(2)))); return }
        switch text {
        case "bool": self = .bool
        case "int8": self = .int8
        case "int16": self = .int16
        case "int32": self = .int32
        case "int64": self = .int64
        case "uint16": self = .uint16
        case "uint32": self = .uint32
        case "float64": self = .float64
        case "string": self = .string
        case "bytes": self = .bytes
        case "records": self = .records
        case "uuid": self = .uuid
        default: self = .structure(text)
        }
    }

    var isStruct: Bool { if case .structure = self { return true } else { return false } }
}

/// One field of a schema struct.
public struct FieldSpec: Sendable {
    public var name: String
    public var type: FieldType
    public var versions: VersionRange
    public var nullableVersions: VersionRange
    public var taggedVersions: VersionRange
    public var tag: Int?
    public var defaultText: String?
    public var ignorable: Bool
    /// Field-level flexible versions override (used by headers' client id).
    public var flexibleOverride: VersionRange?
}

/// A struct: the message itself, an inline struct or a common struct.
public struct StructSpec: Sendable {
    public var name: String
    public var versions: VersionRange
    public var fields: [FieldSpec]
}

/// One schema file.
public struct MessageSpec: Sendable {
    public var name: String
    public var kind: String
    public var apiKey: Int16?
    public var validVersions: VersionRange
    public var flexibleVersions: VersionRange
    public var listeners: [String]
    public var latestVersionUnstable: Bool
    public var root: StructSpec
    /// Every named struct in declaration order (inline first, then common).
    public var structs: [StructSpec]
}

enum SchemaLoader {
    /// Parses one schema file; `//` comment lines are stripped first.
    static func load(_ url: URL) throws -> MessageSpec {
        let text = try String(contentsOf: url, encoding: .utf8)
        let stripped = text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("//") }
            .joined(separator: "\n")
        guard let json = try JSONSerialization.jsonObject(with: Data(stripped.utf8)) as? [String: Any] else {
            throw CodegenError("\(url.lastPathComponent): not a JSON object")
        }
        let name = try string(json, "name", url)
        let valid = try VersionRange(parsing: try string(json, "validVersions", url))
        let flexible = try VersionRange(parsing: json["flexibleVersions"] as? String ?? "none")
        var structs: [StructSpec] = []
        let fields = try parseFields(json["fields"] as? [[String: Any]] ?? [], structs: &structs, file: url)
        for common in json["commonStructs"] as? [[String: Any]] ?? [] {
            let commonFields = try parseFields(common["fields"] as? [[String: Any]] ?? [], structs: &structs, file: url)
            structs.append(StructSpec(
                name: try string(common, "name", url),
                versions: try VersionRange(parsing: common["versions"] as? String ?? "0+"),
                fields: commonFields))
        }
        return MessageSpec(
            name: name,
            kind: try string(json, "type", url),
            apiKey: (json["apiKey"] as? NSNumber).map { Int16(truncating: $0) },
            validVersions: valid,
            flexibleVersions: flexible,
            listeners: json["listeners"] as? [String] ?? [],
            latestVersionUnstable: json["latestVersionUnstable"] as? Bool ?? false,
            root: StructSpec(name: name, versions: valid, fields: fields),
            structs: structs)
    }

    private static func parseFields(
        _ list: [[String: Any]], structs: inout [StructSpec], file: URL
    ) throws -> [FieldSpec] {
        try list.map { json in
            let name = try string(json, "name", file)
            let typeText = try string(json, "type", file)
            let type = FieldType(parsing: typeText)
            let taggedVersions = try VersionRange(parsing: json["taggedVersions"] as? String ?? "none")
            // As in Kafka's generator, a tagged field without `versions` is present in its tagged versions.
            let versions = try (json["versions"] as? String).map(VersionRange.init(parsing:))
                ?? (taggedVersions.isEmpty ? VersionRange(parsing: try string(json, "versions", file)) : taggedVersions)
            if let nested = json["fields"] as? [[String: Any]] {
                let structName = typeText.hasPrefix("[]") ? String(typeText.dropFirst(2)) : typeText
                let nestedFields = try parseFields(nested, structs: &structs, file: file)
                structs.append(StructSpec(name: structName, versions: versions, fields: nestedFields))
            }
            var defaultText: String?
            if let text = json["default"] as? String { defaultText = text }
            else if let number = json["default"] as? NSNumber { defaultText = number.stringValue }
            return FieldSpec(
                name: name,
                type: type,
                versions: versions,
                nullableVersions: try VersionRange(parsing: json["nullableVersions"] as? String ?? "none"),
                taggedVersions: taggedVersions,
                tag: (json["tag"] as? NSNumber)?.intValue,
                defaultText: defaultText,
                ignorable: json["ignorable"] as? Bool ?? false,
                flexibleOverride: try (json["flexibleVersions"] as? String).map(VersionRange.init(parsing:)))
        }
    }

    private static func string(_ json: [String: Any], _ key: String, _ file: URL) throws -> String {
        guard let value = json[key] as? String else {
            throw CodegenError("\(file.lastPathComponent): missing '\(key)'")
        }
        return value
    }
}
