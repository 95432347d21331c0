import Testing
@testable import LogEngine

@Test func description_includesContext() {
    let error = LogEngineError(.io, "write failed", context: "00000000000000000000.log")
    #expect(error.description == "io: write failed (00000000000000000000.log)")
}
