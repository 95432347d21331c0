/// Turns schema names into Swift identifiers.
enum SwiftNames {
    static let keywords: Set<String> = [
        "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import", "init", "inout",
        "internal", "let", "open", "operator", "private", "protocol", "public", "rethrows", "static", "struct",
        "subscript", "typealias", "var", "break", "case", "continue", "default", "defer", "do", "else",
        "fallthrough", "for", "guard", "if", "in", "repeat", "return", "switch", "where", "while", "as", "catch",
        "false", "is", "nil", "super", "self", "Self", "throw", "throws", "true", "try", "any", "some", "Type",
    ]

    /// `ThrottleTimeMs` → `throttleTimeMs`, escaped when it is a keyword.
    static func property(_ name: String) -> String {
        guard let first = name.first else { return name }
        let lowered = first.lowercased() + name.dropFirst()
        return keywords.contains(lowered) ? "`\(lowered)`" : lowered
    }

    /// The bare property name, for messages and labels.
    static func label(_ name: String) -> String {
        guard let first = name.first else { return name }
        return first.lowercased() + name.dropFirst()
    }

    /// `LIST_OFFSETS`-style or `ListOffsets`-style names → `listOffsets`.
    static func caseName(fromUpperSnake name: String) -> String {
        let parts = name.lowercased().split(separator: "_")
        guard let head = parts.first else { return name }
        let joined = String(head) + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
        return keywords.contains(joined) ? "`\(joined)`" : joined
    }

    static func stringLiteral(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
