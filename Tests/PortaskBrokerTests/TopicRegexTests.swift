import Testing
@testable import PortaskBroker

@Suite struct TopicRegexTests {
    private func matches(_ pattern: String, _ text: String) throws -> Bool {
        try TopicRegex(pattern).matchesWhole(text)
    }

    private func isInvalid(_ pattern: String) -> Bool {
        (try? TopicRegex(pattern)) == nil
    }

    @Test func literal_whenWholeTextEqual_matches() throws {
        #expect(try matches("orders", "orders"))
        #expect(try matches("orders.v1-eu_2", "ordersXv1-eu_2"))  // `.` is a wildcard
        #expect(try matches("orders", "order") == false)
        #expect(try matches("", ""))
        #expect(try matches("", "a") == false)
    }

    @Test func wholeMatch_whenTextHasExtraScalars_doesNotMatch() throws {
        #expect(try matches("foo", "foox") == false)
        #expect(try matches("foo", "xfoo") == false)
        #expect(try matches("foo|foox", "foox"))
        #expect(try matches("a*", "aaab") == false)
    }

    @Test func dot_whenAnyScalarButNewline_matches() throws {
        #expect(try matches("a.c", "abc"))
        #expect(try matches("a.c", "a.c"))
        #expect(try matches("a.c", "a\nc") == false)
        #expect(try matches("(?s)a.c", "a\nc"))
        #expect(try matches("...", "é-x"))
        #expect(try matches("a\\.c", "abc") == false)
        #expect(try matches("a\\.c", "a.c"))
    }

    @Test func characterClass_whenMemberOrNegated_matchesAccordingly() throws {
        #expect(try matches("[abc]+", "cabba"))
        #expect(try matches("[abc]", "d") == false)
        #expect(try matches("[^abc]", "d"))
        #expect(try matches("[^abc]", "a") == false)
        #expect(try matches("[^a]", "\n"))
        #expect(try matches("[]a]+", "]a]"))
        #expect(try matches("[a\\]]+", "]a"))
        #expect(try matches("[.-]+", ".-.") )
        #expect(try matches("[.]", "x") == false)
    }

    @Test func characterClass_whenRange_matchesInclusiveBounds() throws {
        #expect(try matches("[a-z]+", "topic"))
        #expect(try matches("[a-z]+", "Topic") == false)
        #expect(try matches("[^a-z]", "A"))
        #expect(try matches("[a-zA-Z0-9._-]+", "Orders.v1_eu-2"))
        #expect(try matches("[a-]+", "a-a"))
        #expect(try matches("[\\x41-\\x43]+", "ABC"))
        #expect(try matches("[[:digit:][:upper:]]+", "A1B2"))
        #expect(try matches("[[:^alpha:]]", "a") == false)
    }

    @Test func perlClasses_whenDigitWordSpace_matchASCII() throws {
        #expect(try matches("\\d+", "0123456789"))
        #expect(try matches("\\d", "a") == false)
        #expect(try matches("\\D", "a"))
        #expect(try matches("\\w+", "orders_V2"))
        #expect(try matches("\\w", "-") == false)
        #expect(try matches("\\W", "-"))
        #expect(try matches("\\s\\S", " x"))
        #expect(try matches("\\s", "x") == false)
        #expect(try matches("[\\d.]+", "1.2.3"))
        #expect(try matches("[^\\d]", "5") == false)
    }

    @Test func anchors_whenAtTextEdges_match() throws {
        #expect(try matches("^orders$", "orders"))
        #expect(try matches("^orders", "orders"))
        #expect(try matches("a^b", "ab") == false)
        #expect(try matches("a$b", "ab") == false)
        #expect(try matches("(^a|b)+", "ab"))
        #expect(try matches("(^a|b)+", "ba") == false)
        #expect(try matches("\\Aab\\z", "ab"))
        #expect(try matches("a\\b-\\bb", "a-b"))
    }

    @Test func alternation_whenAnyAlternativeMatches_matches() throws {
        #expect(try matches("orders|payments", "orders"))
        #expect(try matches("orders|payments", "payments"))
        #expect(try matches("orders|payments", "ordersments") == false)
        #expect(try matches("a|", ""))
        #expect(try matches("|b", "b"))
    }

    @Test func grouping_whenCapturingOrNot_appliesOperatorsToGroup() throws {
        #expect(try matches("(ab)+", "ababab"))
        #expect(try matches("(ab)+", "aba") == false)
        #expect(try matches("(?:ab|cd)*e", "abcdabe"))
        #expect(try matches("(?P<env>prod|dev)-(?<svc>\\w+)", "prod-orders"))
        #expect(try matches("()", ""))
        #expect(try matches("((a)(b))", "ab"))
    }

    @Test func quantifiers_whenStarPlusQuestion_matchCounts() throws {
        #expect(try matches("ab*c", "ac"))
        #expect(try matches("ab*c", "abbbc"))
        #expect(try matches("ab+c", "ac") == false)
        #expect(try matches("ab+c", "abbc"))
        #expect(try matches("ab?c", "ac"))
        #expect(try matches("ab?c", "abc"))
        #expect(try matches("ab?c", "abbc") == false)
        #expect(try matches("ab*?c", "abbc"))
        #expect(try matches("ab+?c", "abc"))
        #expect(try matches("ab??c", "abc"))
        #expect(try matches("(a*)*", "aaa"))
        #expect(try matches("(a*)+b", "b"))
    }

    @Test func counts_whenExact_matchOnlyThatMany() throws {
        #expect(try matches("a{3}", "aaa"))
        #expect(try matches("a{3}", "aa") == false)
        #expect(try matches("a{3}", "aaaa") == false)
        #expect(try matches("(ab){2}", "abab"))
        #expect(try matches("a{0}b", "b"))
    }

    @Test func counts_whenAtLeast_matchThatManyOrMore() throws {
        #expect(try matches("a{2,}", "a") == false)
        #expect(try matches("a{2,}", "aa"))
        #expect(try matches("a{2,}", "aaaaaaa"))
        #expect(try matches("a{0,}", ""))
    }

    @Test func counts_whenRange_matchBetweenBounds() throws {
        #expect(try matches("a{2,4}", "a") == false)
        #expect(try matches("a{2,4}", "aa"))
        #expect(try matches("a{2,4}", "aaaa"))
        #expect(try matches("a{2,4}", "aaaaa") == false)
        #expect(try matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}", "10.0.0.255"))
        #expect(try matches("a{2,4}?", "aaa"))
    }

    @Test func braces_whenNotACount_areLiterals() throws {
        #expect(try matches("a{", "a{"))
        #expect(try matches("a{,2}", "a{,2}"))
        #expect(try matches("a{x}", "a{x}"))
        #expect(try matches("}", "}"))
        #expect(try matches("a{01}", "a{01}"))
    }

    @Test func caseInsensitiveFlag_whenSet_matchesEitherASCIICase() throws {
        #expect(try matches("(?i)orders", "ORDERS"))
        #expect(try matches("(?i)[a-c]+", "AbC"))
        #expect(try matches("(?i)[^a]", "A") == false)
        #expect(try matches("(?i:a)b", "Ab"))
        #expect(try matches("(?i:a)b", "AB") == false)
        #expect(try matches("orders", "ORDERS") == false)
    }

    @Test func escapes_whenPunctuationOrCodes_matchLiterally() throws {
        #expect(try matches("a\\-b\\\\c", "a-b\\c"))
        #expect(try matches("\\(\\)\\[\\]\\{\\}\\*\\+\\?\\|\\^\\$", "()[]{}*+?|^$"))
        #expect(try matches("\\x41\\x{42}\\101", "ABA"))
        #expect(try matches("\\Qa.b*\\E+", "a.b**"))
        #expect(try matches("\\t\\n", "\t\n"))
    }

    @Test func init_whenPatternInvalid_throws() {
        for pattern in ["(", ")", "a)", "(a", "[a-", "[a", "[]", "[z-a]", "a{2,1}", "*a", "+", "?", "{2}",
                        "a**", "a*+", "a+?+", "a{2}{3}", "a{2}*", "a??*", "|*", "(*)", "(?i)*",
                        "\\", "a\\", "\\1", "(a)\\1", "\\8", "\\k", "\\xZZ", "\\x{110000}", "[a-\\d]",
                        "(?=a)", "(?!a)", "(?<=a)", "(?<!a)", "(?P=n)", "(?P<>a)", "(?P<n>a)(?P<n>b)", "(?x)", "(?-)",
                        "a{1001}", "a{0,1001}", "a{100000000}", "(?i", "[[:foo:]]", "\\p{Greek}", "\\pL"] {
            #expect(isInvalid(pattern), "\(pattern) should be rejected")
        }
    }

    @Test func init_whenPatternValidInRE2_doesNotThrow() {
        for pattern in ["a{1000}", "a{0,1000}", "a{,", "x{2}y", "(?i)", "(?)", "(?i-s:a)", "[\\d-z]", "[-a]", "a|",
                        "(|)", "^*", "\\Q\\E", "(?U)a*", "[[:alpha:]]", "\\Qab"] {
            #expect(!isInvalid(pattern), "\(pattern) should be accepted")
        }
    }

    @Test func init_whenErrorThrown_hasRE2JStyleMessage() {
        #expect(throws: TopicRegex.SyntaxError("invalid nested repetition operator: **")) { try TopicRegex("a**") }
        #expect(throws: TopicRegex.SyntaxError("missing argument to repetition operator: *")) { try TopicRegex("*a") }
        #expect(throws: TopicRegex.SyntaxError("invalid repeat count: {2,1}")) { try TopicRegex("a{2,1}") }
    }

    @Test func pathologicalAlternation_whenNoMatch_returnsFalseQuickly() throws {
        let regex = try TopicRegex("(a|a)+")
        let text = String(repeating: "a", count: 30) + "b"
        let clock = ContinuousClock()
        var result = true
        let elapsed = clock.measure { result = regex.matchesWhole(text) }
        #expect(result == false)
        #expect(regex.matchesWhole(String(repeating: "a", count: 30)))
        #expect(elapsed < .milliseconds(100))
    }

    @Test func pathologicalNestedPlus_whenNoMatch_returnsFalseQuickly() throws {
        let regex = try TopicRegex("(x+x+)+y")
        let text = String(repeating: "x", count: 30)
        let clock = ContinuousClock()
        var result = true
        let elapsed = clock.measure { result = regex.matchesWhole(text) }
        #expect(result == false)
        #expect(regex.matchesWhole(text + "y"))
        #expect(elapsed < .milliseconds(100))
    }

    @Test func pathologicalLongInput_whenMaximalTopicName_runsInLinearTime() throws {
        let pattern = "(a|aa)*" + String(repeating: "(a*)*", count: 18) + "a?c"
        #expect(pattern.count == 100)
        let regex = try TopicRegex(pattern)
        let text = String(repeating: "a", count: 249)
        let clock = ContinuousClock()
        var result = true
        let elapsed = clock.measure { result = regex.matchesWhole(text) }
        #expect(result == false)
        #expect(elapsed < .milliseconds(500))
    }

    @Test func programSize_whenExpansionExceedsBound_throws() {
        #expect(isInvalid("(a{1000}){1000}"))
        #expect(isInvalid("((a{100}){100}){100}"))
        #expect(isInvalid(String(repeating: "[a-z]{1000}", count: 11)))
        #expect(!isInvalid(String(repeating: "[a-z]{1000}", count: 9)))
        #expect(!isInvalid("(a{100}){90}"))
        var emptyNest = "()"
        for _ in 0..<9 { emptyNest = "(" + emptyNest + "){1000}" }
        #expect(!isInvalid(emptyNest))  // repeats of an empty group compile to nothing, instantly
    }

    @Test func limits_whenPatternTooLongOrNestedTooDeeply_throws() {
        #expect(isInvalid(String(repeating: "a", count: TopicRegex.maxPatternBytes + 1)))
        #expect(!isInvalid(String(repeating: "a", count: TopicRegex.maxPatternBytes)))
        #expect(isInvalid(String(repeating: "(", count: 101) + "a" + String(repeating: ")", count: 101)))
        #expect(!isInvalid(String(repeating: "(", count: 100) + "a" + String(repeating: ")", count: 100)))
    }

    @Test func sendable_whenSharedAcrossTasks_matchesConsistently() async throws {
        let regex = try TopicRegex("orders\\.[a-z]+-\\d{1,3}")
        let results = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<8 { group.addTask { regex.matchesWhole("orders.eu-\(index)") } }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results == Array(repeating: true, count: 8))
    }
}
