/// Parses Java `.properties` text as Kafka reads `server.properties`: `key=value`, `key: value` or `key value`,
/// `#`/`!` comments, trailing-backslash line continuations and backslash escapes. Stateless; thread-safe.
public enum JavaProperties {
    public static func parse(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        var logical = ""
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        for raw in lines {
            var line = Substring(raw)
            if logical.isEmpty {
                line = line.drop(while: { $0 == " " || $0 == "\t" })
                if line.isEmpty || line.hasPrefix("#") || line.hasPrefix("!") { continue }
            } else {
                line = line.drop(while: { $0 == " " || $0 == "\t" })
            }
            if endsWithOddBackslashes(line) {
                logical += line.dropLast()
                continue
            }
            logical += line
            if let (key, value) = split(logical) { result[key] = value }
            logical = ""
        }
        if !logical.isEmpty, let (key, value) = split(logical) { result[key] = value }
        return result
    }

    private static func endsWithOddBackslashes(_ line: Substring) -> Bool {
        var count = 0
        for character in line.reversed() {
            guard character == "\\" else { break }
            count += 1
        }
        return count % 2 == 1
    }

    private static func split(_ line: String) -> (String, String)? {
        var key = ""
        var index = line.startIndex
        var escaped = false
        while index < line.endIndex {
            let character = line[index]
            if escaped {
                key.append(unescape(character))
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "=" || character == ":" || character == " " || character == "\t" {
                break
            } else {
                key.append(character)
            }
            index = line.index(after: index)
        }
        guard !key.isEmpty else { return nil }
        var rest = line[index...].drop(while: { $0 == " " || $0 == "\t" })
        if let first = rest.first, first == "=" || first == ":" {
            rest = rest.dropFirst().drop(while: { $0 == " " || $0 == "\t" })
        }
        var value = ""
        escaped = false
        for character in rest {
            if escaped {
                value.append(unescape(character))
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else {
                value.append(character)
            }
        }
        return (key, value)
    }

    private static func unescape(_ character: Character) -> Character {
        switch character {
        case "n": return "\n"
        case "t": return "\t"
        case "r": return "\r"
        default: return character
        }
    }
}
