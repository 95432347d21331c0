import Testing
@testable import CodegenKit

@Test func parse_handlesEveryForm() throws {
    #expect(try VersionRange(parsing: "none").isEmpty)
    #expect(try VersionRange(parsing: "4+") == VersionRange(lowest: 4, highest: nil))
    #expect(try VersionRange(parsing: "0-5") == VersionRange(lowest: 0, highest: 5))
    #expect(try VersionRange(parsing: "7") == VersionRange(lowest: 7, highest: 7))
    #expect(throws: CodegenError.self) { try VersionRange(parsing: "x") }
}

@Test func condition_isTrueOnlyInsideTheRange() throws {
    let valid = VersionRange(lowest: 0, highest: 11)
    #expect(try VersionRange(parsing: "0+").condition(within: valid) == "true")
    #expect(try VersionRange(parsing: "3+").condition(within: valid) == "version >= 3")
    #expect(try VersionRange(parsing: "0-12").condition(within: valid) == "true")
    #expect(try VersionRange(parsing: "2-4").condition(within: valid) == "version >= 2 && version <= 4")
    #expect(try VersionRange(parsing: "none").condition(within: valid) == "false")
    #expect(try VersionRange(parsing: "12+").condition(within: valid) == "false")
}
