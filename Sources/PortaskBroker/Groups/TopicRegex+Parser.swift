extension TopicRegex {
    /// Flags set by `(?imsU)` groups; they last until the end of the enclosing group.
    struct Flags: Sendable {
        var caseInsensitive = false
        var multiLine = false
        var dotMatchesNewline = false
    }

    /// A recursive-descent parser for RE2 syntax (Perl-like flags, as RE2J's default `PERL` mode),
    /// producing a ``Node`` tree and the class range table. Recursion depth is bounded by
    /// ``maxNesting``; runs in time linear in the pattern length.
    struct Parser {
        let scalars: [Unicode.Scalar]
        var position = 0
        var flags = Flags()
        private var groupNames: Set<String> = []
        /// Character class ranges as flat `lo, hi` pairs, referenced by `Node.set`.
        private(set) var classRanges: [UInt32] = []

        init(_ pattern: String) {
            scalars = Array(pattern.unicodeScalars)
        }

        mutating func parse() throws -> Node {
            let tree = try parseAlternation(depth: 0)
            if position < scalars.count {  // parseAlternation stops only at ")" or the end.
                throw SyntaxError("unexpected ): \(text(0..<position + 1))")
            }
            return tree
        }

        // MARK: Structure

        private mutating func parseAlternation(depth: Int) throws -> Node {
            var alternatives = [try parseConcatenation(depth: depth)]
            while peek() == "|" {
                position += 1
                alternatives.append(try parseConcatenation(depth: depth))
            }
            return alternatives.count == 1 ? alternatives[0] : .alternate(alternatives)
        }

        private mutating func parseConcatenation(depth: Int) throws -> Node {
            var items: [Node] = []
            while let scalar = peek(), scalar != "|", scalar != ")" {
                if isRepetitionOperator(at: position) {
                    let end = repetitionOperatorEnd(at: position)
                    throw SyntaxError("missing argument to repetition operator: \(text(position..<end))")
                }
                let atom: Node
                if scalar == "\\" && peek(1) == "Q" {
                    // \Q…\E: literal text; a following quantifier applies to its last scalar.
                    position += 2
                    var literals: [Unicode.Scalar] = []
                    while let next = peek() {
                        if next == "\\" && peek(1) == "E" {
                            position += 2
                            break
                        }
                        literals.append(next)
                        position += 1
                    }
                    guard let last = literals.popLast() else { continue }
                    for literal in literals { items.append(self.literal(literal.value)) }
                    atom = literal(last.value)
                } else {
                    guard let parsed = try parseAtom(depth: depth) else { continue }  // (?flags)
                    atom = parsed
                }
                let node = try parseQuantifiers(atom)
                if node != .empty { items.append(node) }
            }
            switch items.count {
            case 0: return .empty
            case 1: return items[0]
            default: return .concat(items)
            }
        }

        /// Applies `*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}` (each optionally lazy, which cannot change a
        /// whole match). RE2 rejects stacked operators such as `a**` or `a{2}*`.
        private mutating func parseQuantifiers(_ atom: Node) throws -> Node {
            var node = atom
            var previousStart: Int?
            while position < scalars.count, isRepetitionOperator(at: position) {
                let start = position
                let minimum: Int, maximum: Int?
                switch scalars[position] {
                case "*": (minimum, maximum) = (0, nil); position += 1
                case "+": (minimum, maximum) = (1, nil); position += 1
                case "?": (minimum, maximum) = (0, 1); position += 1
                default:
                    guard let braces = parseBraces(at: position) else { return node }
                    (minimum, maximum) = (braces.min, braces.max)
                    position = braces.end
                    if minimum > TopicRegex.maxRepeat || (maximum ?? 0) > TopicRegex.maxRepeat
                        || minimum > (maximum ?? .max) {
                        throw SyntaxError("invalid repeat count: \(text(start..<position))")
                    }
                }
                if peek() == "?" { position += 1 }
                if let previousStart {
                    throw SyntaxError("invalid nested repetition operator: \(text(previousStart..<position))")
                }
                previousStart = start
                node = Self.repetition(node, min: minimum, max: maximum)
            }
            return node
        }

        private static func repetition(_ node: Node, min: Int, max: Int?) -> Node {
            if node == .empty || max == 0 { return .empty }
            if min == 1 && max == 1 { return node }
            return .repetition(node, min: min, max: max)
        }

        /// Parses one atom; returns nil for a flags-only group such as `(?i)`.
        private mutating func parseAtom(depth: Int) throws -> Node? {
            switch scalars[position] {
            case "(":
                return try parseGroup(depth: depth)
            case "[":
                return try parseClass()
            case ".": position += 1; return .any(matchesNewline: flags.dotMatchesNewline)
            case "^": position += 1; return .assert(flags.multiLine ? .beginLine : .beginText)
            case "$": position += 1; return .assert(flags.multiLine ? .endLine : .endText)
            case "\\":
                switch peek(1) {
                case "A": position += 2; return .assert(.beginText)
                case "z": position += 2; return .assert(.endText)
                case "b": position += 2; return .assert(.wordBoundary)
                case "B": position += 2; return .assert(.notWordBoundary)
                default:
                    if let perl = try perlClass() { return makeSet(perl, negated: false) }
                    return literal(try parseEscape())
                }
            default:
                position += 1
                return literal(scalars[position - 1].value)
            }
        }

        /// `(…)`, `(?:…)`, `(?P<name>…)`, `(?<name>…)`, `(?flags)` and `(?flags:…)`.
        private mutating func parseGroup(depth: Int) throws -> Node? {
            let open = position
            guard depth < TopicRegex.maxNesting else {
                throw SyntaxError("expression nests too deeply: more than \(TopicRegex.maxNesting) groups")
            }
            position += 1
            var groupFlags = flags
            if peek() == "?" {
                position += 1
                if peek() == "P" || peek() == "<" {
                    try parseGroupName(open: open)
                } else {
                    var negate = false, sawFlag = false
                    flagLoop: while true {
                        guard let scalar = peek() else {
                            throw SyntaxError("invalid or unsupported Perl syntax: \(text(open..<position))")
                        }
                        position += 1
                        switch scalar {
                        case "i": groupFlags.caseInsensitive = !negate; sawFlag = true
                        case "m": groupFlags.multiLine = !negate; sawFlag = true
                        case "s": groupFlags.dotMatchesNewline = !negate; sawFlag = true
                        case "U": sawFlag = true  // ungreedy: cannot change a whole match
                        case "-" where !negate: negate = true; sawFlag = false
                        case ":" where !negate || sawFlag: break flagLoop
                        case ")" where !negate || sawFlag:
                            flags = groupFlags  // lasts to the end of the enclosing group
                            return nil
                        default:
                            throw SyntaxError("invalid or unsupported Perl syntax: \(text(open..<position))")
                        }
                    }
                }
            }
            let saved = flags
            flags = groupFlags
            let body = try parseAlternation(depth: depth + 1)
            guard peek() == ")" else { throw SyntaxError("missing closing ): \(text(open..<scalars.count))") }
            position += 1
            flags = saved
            return body
        }

        /// Validates `P<name>` or `<name>` after `(?`; rejects lookbehind and `(?P=name)`.
        private mutating func parseGroupName(open: Int) throws {
            if peek() == "P" { position += 1 }
            guard peek() == "<", peek(1) != "=", peek(1) != "!" else {
                throw SyntaxError("invalid or unsupported Perl syntax: \(text(open..<position + 2))")
            }
            position += 1
            let nameStart = position
            while let scalar = peek(), Self.isWordScalar(scalar) { position += 1 }
            guard peek() == ">", position > nameStart else {
                throw SyntaxError("invalid named capture: \(text(open..<position + 1))")
            }
            let name = text(nameStart..<position)
            guard groupNames.insert(name).inserted else {
                throw SyntaxError("duplicate capture group name: \(name)")
            }
            position += 1
        }

        // MARK: Classes

        /// `[…]` or `[^…]` with literals, ranges, escapes, `\d`-style and `[:alpha:]`-style classes.
        private mutating func parseClass() throws -> Node {
            let open = position
            position += 1
            let negated = peek() == "^"
            if negated { position += 1 }
            var ranges: [ClosedRange<UInt32>] = []
            var first = true
            while true {
                guard let scalar = peek() else { throw SyntaxError("missing closing ]: \(text(open..<scalars.count))") }
                if scalar == "]" && !first {
                    position += 1
                    break
                }
                first = false
                if scalar == "[" && peek(1) == ":", let posix = try posixClass() {
                    ranges += posix
                    continue
                }
                if let perl = try perlClass() {
                    ranges += perl
                    continue
                }
                let start = position
                let low = try classScalar()
                var high = low
                if peek() == "-", let next = peek(1), next != "]" {
                    position += 1
                    if next == "\\", try perlClass() != nil {
                        throw SyntaxError("invalid character class range: \(text(start..<position))")
                    }
                    high = try classScalar()
                    guard low <= high else {
                        throw SyntaxError("invalid character class range: \(text(start..<position))")
                    }
                }
                ranges.append(low...high)
            }
            return makeSet(ranges, negated: negated)
        }

        private mutating func classScalar() throws -> UInt32 {
            if scalars[position] == "\\" { return try parseEscape() }
            position += 1
            return scalars[position - 1].value
        }

        /// `\d \D \s \S \w \W` at the current position (consumed); nil otherwise. Throws for `\p`, `\P`.
        private mutating func perlClass() throws -> [ClosedRange<UInt32>]? {
            guard peek() == "\\", let letter = peek(1) else { return nil }
            if letter == "p" || letter == "P" {
                throw SyntaxError("unsupported Unicode class: \(text(position..<position + 3))")
            }
            guard let ranges = CharacterRanges.perl[Character(letter)] else { return nil }
            position += 2
            return ranges
        }

        /// `[:name:]` or `[:^name:]` (ASCII, as in RE2); nil when no `:]` follows (then `[` is literal).
        private mutating func posixClass() throws -> [ClosedRange<UInt32>]? {
            var close = position + 2
            while close + 1 < scalars.count, !(scalars[close] == ":" && scalars[close + 1] == "]") { close += 1 }
            guard close + 1 < scalars.count else { return nil }
            var name = text(position + 2..<close)
            let negated = name.hasPrefix("^")
            if negated { name.removeFirst() }
            guard let ranges = CharacterRanges.posix[name] else {
                throw SyntaxError("invalid character class range: \(text(position..<close + 2))")
            }
            position = close + 2
            return negated ? CharacterRanges.negate(ranges) : ranges
        }

        /// Folds ASCII case under `(?i)`, normalizes, negates if asked, and stores the class.
        private mutating func makeSet(_ ranges: [ClosedRange<UInt32>], negated: Bool) -> Node {
            var set = CharacterRanges.normalize(flags.caseInsensitive ? CharacterRanges.foldASCII(ranges) : ranges)
            if negated { set = CharacterRanges.negate(set) }
            if set.count == 1 && set[0].lowerBound == set[0].upperBound { return .scalar(set[0].lowerBound) }
            let start = classRanges.count / 2
            for range in set { classRanges += [range.lowerBound, range.upperBound] }
            return .set(start: start, count: set.count)
        }

        private mutating func literal(_ value: UInt32) -> Node {
            flags.caseInsensitive ? makeSet([value...value], negated: false) : .scalar(value)
        }
    }
}
