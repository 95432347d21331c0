/// A regular expression with RE2 syntax and semantics, matched in linear time without backtracking.
///
/// KIP-848 consumers may subscribe with `subscribedTopicRegex`; Kafka compiles it with RE2J and
/// resolves it with `Pattern.matcher(topic).matches()`, i.e. the whole topic name must match.
/// The pattern is parsed (see `TopicRegex+Parser.swift`) and compiled to a Thompson NFA program of
/// at most ``maxInstructions`` instructions; matching advances the set of all live NFA states one
/// Unicode scalar at a time (a Pike VM without captures). Matching therefore takes
/// O(m × n) time for a program of m instructions and a text of n scalars, and O(m) memory, no
/// matter how the pattern nests: `(a|a)+` or `(x+x+)+y` cannot stall the broker.
///
/// Thread safety: an immutable value type. It is `Sendable`; one instance may be shared and
/// matched from any number of threads or tasks concurrently.
struct TopicRegex: Sendable {
    /// A pattern that is not valid RE2 syntax, uses an unsupported construct, or exceeds a limit.
    /// The message follows RE2J's wording (Kafka's engine), e.g. `missing closing ): (a`.
    struct SyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
        let message: String
        init(_ message: String) { self.message = message }
        var description: String { message }
    }

    /// The longest accepted pattern, in UTF-8 bytes.
    static let maxPatternBytes = 4096
    /// The largest compiled program, in instructions (`{n,m}` repetitions are expanded).
    static let maxInstructions = 10_000
    /// The largest repetition count in `{n}`, `{n,}` or `{n,m}`, as in RE2.
    static let maxRepeat = 1000
    /// The deepest group nesting accepted; bounds the parser's recursion.
    static let maxNesting = 100

    /// The source pattern.
    let pattern: String
    private let program: [Instruction]
    /// Character class ranges as flat `lo, hi` pairs, referenced by `Instruction.set`.
    private let classRanges: [UInt32]

    /// Parses and compiles an RE2 pattern.
    ///
    /// Takes O(pattern length + ``maxInstructions``) time and memory.
    /// - Throws: ``SyntaxError`` for invalid RE2 syntax, unsupported constructs (`\p{…}` Unicode
    ///   classes), patterns over ``maxPatternBytes``, nesting deeper than ``maxNesting``, repetition
    ///   counts over ``maxRepeat``, or programs over ``maxInstructions``.
    init(_ pattern: String) throws {
        guard pattern.utf8.count <= Self.maxPatternBytes else {
            throw SyntaxError("pattern too long: \(pattern.utf8.count) bytes (at most \(Self.maxPatternBytes))")
        }
        var parser = Parser(pattern)
        let tree = try parser.parse()
        var compiler = Compiler()
        try compiler.compile(tree)
        _ = try compiler.emit(.match)
        self.pattern = pattern
        self.program = compiler.program
        self.classRanges = parser.classRanges
    }

    /// Whether the whole of `text` matches, like Java's `Matcher.matches()` (RE2 `FullMatch`).
    ///
    /// O(m × n) time for m program instructions and n Unicode scalars in `text`; O(m) memory; no
    /// recursion. Safe to call concurrently.
    func matchesWhole(_ text: String) -> Bool {
        let matchPC = program.count - 1
        var current = StateSet(capacity: program.count)
        var following = StateSet(capacity: program.count)
        var stack: [Int] = []
        stack.reserveCapacity(2 * program.count + 1)
        var scalars = text.unicodeScalars.makeIterator()
        var ahead = scalars.next()?.value
        addClosure(from: 0, to: &current, previous: nil, next: ahead, stack: &stack)
        while let scalar = ahead {
            if current.count == 0 { return false }
            let after = scalars.next()?.value
            following.removeAll()
            for index in 0..<current.count {
                let pc = current.dense[index]
                let advances: Bool
                switch program[pc] {
                case let .scalar(value): advances = value == scalar
                case let .set(start, count): advances = classContains(scalar, start: start, count: count)
                case let .any(matchesNewline): advances = matchesNewline || scalar != 0x0A
                default: advances = false
                }
                if advances {
                    addClosure(from: pc + 1, to: &following, previous: scalar, next: after, stack: &stack)
                }
            }
            swap(&current, &following)
            ahead = after
        }
        return current.contains(matchPC)
    }

    /// Adds `start` and every state reachable from it without consuming input (the epsilon
    /// closure) to `set`, evaluating assertions between `previous` and `next`. Iterative; each
    /// state is visited at most once per step.
    private func addClosure(
        from start: Int, to set: inout StateSet, previous: UInt32?, next: UInt32?, stack: inout [Int]
    ) {
        stack.append(start)
        while let pc = stack.popLast() {
            if set.contains(pc) { continue }
            set.insert(pc)
            switch program[pc] {
            case let .jump(target):
                stack.append(target)
            case let .split(first, second):
                stack.append(second)
                stack.append(first)
            case let .assert(assertion):
                if assertion.holds(previous: previous, next: next) { stack.append(pc + 1) }
            default:
                break
            }
        }
    }

    /// Binary search of the sorted, disjoint ranges `classRanges[2*start ..< 2*(start+count)]`.
    private func classContains(_ scalar: UInt32, start: Int, count: Int) -> Bool {
        var low = start, high = start + count
        while low < high {
            let mid = (low + high) / 2
            if scalar < classRanges[2 * mid] {
                high = mid
            } else if scalar > classRanges[2 * mid + 1] {
                low = mid + 1
            } else {
                return true
            }
        }
        return false
    }
}

extension TopicRegex {
    /// A zero-width condition on the scalars either side of the current position.
    enum Assertion: Sendable, Equatable {
        case beginText, endText, beginLine, endLine, wordBoundary, notWordBoundary

        func holds(previous: UInt32?, next: UInt32?) -> Bool {
            switch self {
            case .beginText: return previous == nil
            case .endText: return next == nil
            case .beginLine: return previous == nil || previous == 0x0A
            case .endLine: return next == nil || next == 0x0A
            case .wordBoundary: return Self.isWord(previous) != Self.isWord(next)
            case .notWordBoundary: return Self.isWord(previous) == Self.isWord(next)
            }
        }

        /// RE2's ASCII word characters, `[0-9A-Za-z_]`.
        static func isWord(_ scalar: UInt32?) -> Bool {
            guard let scalar else { return false }
            return (0x30...0x39).contains(scalar) || (0x41...0x5A).contains(scalar)
                || (0x61...0x7A).contains(scalar) || scalar == 0x5F
        }
    }

    /// One instruction of the Thompson NFA program.
    enum Instruction: Sendable, Equatable {
        /// Consume one scalar equal to the value.
        case scalar(UInt32)
        /// Consume one scalar in the class stored at pair index `start` (`count` ranges).
        case set(start: Int, count: Int)
        /// Consume any scalar; newline only when `matchesNewline` (the `s` flag).
        case any(matchesNewline: Bool)
        /// Continue at both targets.
        case split(Int, Int)
        case jump(Int)
        /// Continue at the next instruction if the assertion holds here.
        case assert(Assertion)
        /// Accept (only meaningful at the end of the text for whole matches).
        case match
    }

    /// A syntax tree node. The parser never produces empty `concat`/`alternate` nodes or
    /// repetitions of `.empty`, so every node other than `.empty` compiles to at least one
    /// instruction; this bounds compile time by ``maxInstructions``.
    indirect enum Node: Sendable, Equatable {
        case empty
        case scalar(UInt32)
        case set(start: Int, count: Int)
        case any(matchesNewline: Bool)
        case assert(Assertion)
        case concat([Node])
        case alternate([Node])
        /// `max == nil` means unbounded.
        case repetition(Node, min: Int, max: Int?)
    }

    /// Operations on sorted lists of scalar ranges, used to build character classes.
    enum CharacterRanges {
        /// `\d \D \s \S \w \W` (ASCII, as in RE2), the upper-case forms negated.
        static let perl: [Character: [ClosedRange<UInt32>]] = {
            let positive: [Character: [ClosedRange<UInt32>]] = [
                "d": [0x30...0x39],
                "s": [0x09...0x0A, 0x0C...0x0D, 0x20...0x20],
                "w": [0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A],
            ]
            var all = positive
            for (letter, ranges) in positive { all[Character(letter.uppercased())] = negate(ranges) }
            return all
        }()

        /// POSIX classes for `[[:name:]]` (ASCII, as in RE2).
        static let posix: [String: [ClosedRange<UInt32>]] = [
            "alnum": [0x30...0x39, 0x41...0x5A, 0x61...0x7A], "alpha": [0x41...0x5A, 0x61...0x7A],
            "ascii": [0x00...0x7F], "blank": [0x09...0x09, 0x20...0x20], "cntrl": [0x00...0x1F, 0x7F...0x7F],
            "digit": [0x30...0x39], "graph": [0x21...0x7E], "lower": [0x61...0x7A], "print": [0x20...0x7E],
            "punct": [0x21...0x2F, 0x3A...0x40, 0x5B...0x60, 0x7B...0x7E], "space": [0x09...0x0D, 0x20...0x20],
            "upper": [0x41...0x5A], "word": [0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A],
            "xdigit": [0x30...0x39, 0x41...0x46, 0x61...0x66],
        ]

        /// Sorts and merges overlapping or adjacent ranges.
        static func normalize(_ ranges: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
            var merged: [ClosedRange<UInt32>] = []
            for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
                if let last = merged.last, range.lowerBound <= last.upperBound &+ 1 {
                    merged[merged.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
                } else {
                    merged.append(range)
                }
            }
            return merged
        }

        /// The complement within 0…0x10FFFF of sorted, disjoint ranges.
        static func negate(_ ranges: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
            var result: [ClosedRange<UInt32>] = []
            var next: UInt32 = 0
            for range in ranges {
                if range.lowerBound > next { result.append(next...range.lowerBound - 1) }
                next = range.upperBound + 1
            }
            if next <= 0x10FFFF { result.append(next...0x10FFFF) }
            return result
        }

        /// Adds the other ASCII case of every letter in the ranges (RE2 folds all of Unicode).
        static func foldASCII(_ ranges: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
            var result = ranges
            for range in ranges {
                for (letters, shift) in [(UInt32(0x61)...0x7A, -32), (0x41...0x5A, 32)] where range.overlaps(letters) {
                    let clamped = range.clamped(to: letters)
                    let low = UInt32(Int(clamped.lowerBound) + shift), high = UInt32(Int(clamped.upperBound) + shift)
                    result.append(low...high)
                }
            }
            return result
        }
    }

    /// Sparse set of program counters (Briggs–Torczon): O(1) insert, membership and clear.
    private struct StateSet {
        var dense: [Int]
        var sparse: [Int]
        var count = 0

        init(capacity: Int) {
            dense = Array(repeating: 0, count: capacity)
            sparse = Array(repeating: 0, count: capacity)
        }

        func contains(_ pc: Int) -> Bool {
            let index = sparse[pc]
            return index < count && dense[index] == pc
        }

        mutating func insert(_ pc: Int) {
            sparse[pc] = count
            dense[count] = pc
            count += 1
        }

        mutating func removeAll() { count = 0 }
    }

    /// Emits the Thompson program for a syntax tree, throwing once it would exceed the bound.
    private struct Compiler {
        var program: [Instruction] = []

        mutating func emit(_ instruction: Instruction) throws -> Int {
            guard program.count < TopicRegex.maxInstructions else {
                throw SyntaxError("expression too large: more than \(TopicRegex.maxInstructions) instructions")
            }
            program.append(instruction)
            return program.count - 1
        }

        /// Recursion depth is bounded by the tree depth, hence by the pattern's group nesting.
        mutating func compile(_ node: Node) throws {
            switch node {
            case .empty:
                return
            case let .scalar(value):
                _ = try emit(.scalar(value))
            case let .set(start, count):
                _ = try emit(.set(start: start, count: count))
            case let .any(matchesNewline):
                _ = try emit(.any(matchesNewline: matchesNewline))
            case let .assert(assertion):
                _ = try emit(.assert(assertion))
            case let .concat(items):
                for item in items { try compile(item) }
            case let .alternate(alternatives):
                // split L1, L2; L1: first; jump end; L2: split …; …; last; end:
                var exits: [Int] = []
                for alternative in alternatives.dropLast() {
                    let split = try emit(.split(0, 0))
                    try compile(alternative)
                    exits.append(try emit(.jump(0)))
                    program[split] = .split(split + 1, program.count)
                }
                if let last = alternatives.last { try compile(last) }
                for exit in exits { program[exit] = .jump(program.count) }
            case let .repetition(body, min, max?):
                // x{n,m} = x…x (n times) then (x(x(…)?)?)? (m-n times): every split exits to the end.
                for _ in 0..<min { try compile(body) }
                var splits: [Int] = []
                for _ in min..<max {
                    splits.append(try emit(.split(0, 0)))
                    try compile(body)
                }
                for split in splits { program[split] = .split(split + 1, program.count) }
            case let .repetition(body, 0, nil):
                // L: split L+1, end; x; jump L; end:
                let loop = try emit(.split(0, 0))
                try compile(body)
                _ = try emit(.jump(loop))
                program[loop] = .split(loop + 1, program.count)
            case let .repetition(body, min, nil):
                // x{n,} = x…x (n-1 times) then L: x; split L, end
                for _ in 0..<(min - 1) { try compile(body) }
                let top = program.count
                try compile(body)
                _ = try emit(.split(top, program.count + 1))
            }
        }
    }
}
