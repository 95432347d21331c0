import NIOCore
import Testing
@testable import KafkaProtocol

struct DecodingBudgetTests {
    /// A DescribeGroups v5 frame (flexible) naming `count` empty group ids: one byte each on the wire.
    private func describeGroupsFrame(count: Int) throws -> ByteBuffer {
        var frame = try KafkaRequest.frame(
            DescribeGroupsRequest(groups: Array(repeating: "", count: count), includeAuthorizedOperations: false),
            version: 5, correlationId: 1, clientId: "c")
        frame.moveReaderIndex(forwardBy: 4)
        return frame
    }

    @Test func decode_whenElementsExceedTheBudget_failsWithBudgetExceeded() throws {
        let frame = try describeGroupsFrame(count: 200_000)
        #expect(frame.readableBytes < 210_000)
        do {
            _ = try KafkaRequest.decode(frame: frame, decodingBudget: 1 << 20)
            Issue.record("decoding passed the budget")
        } catch let error as KafkaProtocolError {
            #expect(error.code == .budgetExceeded)
        }
    }

    @Test func decode_whenWithinTheBudget_succeeds() throws {
        let request = try KafkaRequest.decode(frame: describeGroupsFrame(count: 1_000), decodingBudget: 1 << 20)
        #expect((request.body as? DescribeGroupsRequest)?.groups.count == 1_000)
    }

    @Test func decode_withoutABudget_chargesNothing() throws {
        var frame = try describeGroupsFrame(count: 200_000)
        _ = try RequestHeader(from: &frame, headerVersion: 2)
        let body = try DescribeGroupsRequest(from: &frame, version: 5)
        #expect(body.groups.count == 200_000)
    }
}
