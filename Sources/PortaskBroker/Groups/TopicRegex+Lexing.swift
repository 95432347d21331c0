/// The parser's escapes and lexing: single-scalar escapes, repetition operators and counts, lookahead.
/// Value type; used by one parse at a time.
extension TopicRegex.Parser {
    /// A single-scalar escape at `\`: punctuation, `\a \f \n \r \t \v`, octal `\0`–`\377`, `\xhh`,
    /// `\x{h…}`. Backreferences (`\1`) and unknown letters are invalid, as in RE2.
    mutating func parseEscape() throws -> UInt32 {
        let start = position
        guard let letter = peek(1) else { throw TopicRegex.SyntaxError("trailing backslash at end of expression") }
        position += 2
        switch letter {
        case "1"..."7" where !(peek().map { ("0"..."7").contains($0) } ?? false):
            throw TopicRegex.SyntaxError("invalid escape sequence: \(text(start..<position)) (no backreferences)")
        case "0"..."7":
            var value = letter.value - 0x30
            for _ in 0..<2 {
                guard let digit = peek(), ("0"..."7").contains(digit) else { break }
                value = value * 8 + digit.value - 0x30
                position += 1
            }
            return value
        case "x":
            if peek() == "{" {
                position += 1
                var value: UInt32 = 0, digits = 0
                while let digit = peek(), let nibble = Self.hexValue(digit) {
                    value = value * 16 + nibble
                    digits += 1
                    position += 1
                    if value > 0x10FFFF { break }
                }
                guard digits > 0, value <= 0x10FFFF, peek() == "}" else {
                    throw TopicRegex.SyntaxError("invalid escape sequence: \(text(start..<position + 1))")
                }
                position += 1
                return value
            }
            guard let high = peek().flatMap(Self.hexValue), let low = peek(1).flatMap(Self.hexValue) else {
                throw TopicRegex.SyntaxError("invalid escape sequence: \(text(start..<position + 2))")
            }
            position += 2
            return high * 16 + low
        case "a": return 0x07
        case "f": return 0x0C
        case "n": return 0x0A
        case "r": return 0x0D
        case "t": return 0x09
        case "v": return 0x0B
        default:
            // Any escaped scalar other than an ASCII letter or digit is itself (RE2J; allows `\_`).
            if !(letter.isASCII && Self.isWordScalar(letter)) || letter == "_" { return letter.value }
            throw TopicRegex.SyntaxError("invalid escape sequence: \(text(start..<position))")
        }
    }

    func isRepetitionOperator(at index: Int) -> Bool {
        switch scalars[index] {
        case "*", "+", "?": return true
        case "{": return parseBraces(at: index) != nil
        default: return false
        }
    }

    func repetitionOperatorEnd(at index: Int) -> Int {
        scalars[index] == "{" ? parseBraces(at: index)?.end ?? index + 1 : index + 1
    }

    /// `{n}`, `{n,}` or `{n,m}` at `index`; nil when the text is not one (then `{` is a literal).
    func parseBraces(at index: Int) -> (min: Int, max: Int?, end: Int)? {
        guard index < scalars.count, scalars[index] == "{",
              let (minimum, afterMin) = parseInteger(at: index + 1) else { return nil }
        var cursor = afterMin
        var maximum: Int? = minimum
        if cursor < scalars.count && scalars[cursor] == "," {
            cursor += 1
            if cursor < scalars.count && scalars[cursor] == "}" {
                maximum = nil
            } else {
                guard let (value, afterMax) = parseInteger(at: cursor) else { return nil }
                maximum = value
                cursor = afterMax
            }
        }
        guard cursor < scalars.count && scalars[cursor] == "}" else { return nil }
        return (minimum, maximum, cursor + 1)
    }

    /// Decimal digits without a leading zero (else not a count, as in RE2J); more than 8 digits
    /// yield `Int.max`, an invalid count.
    func parseInteger(at index: Int) -> (Int, Int)? {
        var cursor = index, value = 0
        while cursor < scalars.count, ("0"..."9").contains(scalars[cursor]) {
            if cursor > index && value == 0 { return nil }
            value = cursor - index >= 8 ? Int.max : value * 10 + Int(scalars[cursor].value - 0x30)
            cursor += 1
        }
        return cursor > index ? (value, cursor) : nil
    }

    func peek(_ offset: Int = 0) -> Unicode.Scalar? {
        position + offset < scalars.count ? scalars[position + offset] : nil
    }

    /// The pattern text in `range`, clamped to the pattern, for error messages.
    func text(_ range: Range<Int>) -> String {
        String(String.UnicodeScalarView(scalars[range.clamped(to: 0..<scalars.count)]))
    }

    static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool { TopicRegex.Assertion.isWord(scalar.value) }

    static func hexValue(_ scalar: Unicode.Scalar) -> UInt32? {
        scalar.properties.isASCIIHexDigit ? UInt32(String(scalar), radix: 16) : nil
    }
}
