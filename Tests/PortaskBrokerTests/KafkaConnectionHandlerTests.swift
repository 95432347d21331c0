import Foundation
import KafkaProtocol
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import NIOPosix
import Testing
@testable import PortaskBroker

/// The connection handler on a `NIOAsyncTestingChannel`: response order, back-pressure, the ApiVersions v0
/// fallback and file regions released once written or when the connection goes away.
struct KafkaConnectionHandlerTests {
    /// Owns a file region as `FetchedRegion` does: closes its handle when released, and says so.
    final class RegionOwner: @unchecked Sendable {
        let region: FileRegion
        let released: NIOLockedValueBox<Int>

        init(path: String, released: NIOLockedValueBox<Int>) throws {
            let descriptor = open(path, O_RDONLY)
            try #require(descriptor >= 0)
            region = FileRegion(
                fileHandle: NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: descriptor), readerIndex: 0, endIndex: 100)
            self.released = released
        }

        deinit {
            try? region.fileHandle.close()
            released.withLockedValue { $0 += 1 }
        }
    }

    /// A gate a test handler waits on until the test opens it.
    final class Gate: Sendable {
        private let state = NIOLockedValueBox<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

        func wait() async {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLockedValue { state -> Bool in
                    if state.open { return true }
                    state.waiters.append(continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }

        func open() {
            let waiters = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
                state.open = true
                defer { state.waiters = [] }
                return state.waiters
            }
            waiters.forEach { $0.resume() }
        }
    }

    /// Metadata requests with correlation id 1 wait for `gate`; every other one answers at once.
    private func router(
        gate: Gate, region: NIOLockedValueBox<RegionOwner?> = .init(nil), started: NIOLockedValueBox<[Int32]> = .init([])
    ) -> RequestRouter {
        RequestRouter([
            ApiHandler(MetadataRequest.self, response: MetadataResponse.self, versions: 0...12) { _, context in
                started.withLockedValue { $0.append(context.correlationId) }
                if context.correlationId == 1 { await gate.wait() }
                return MetadataResponse(clusterId: "c\(context.correlationId)")
            },
            ApiHandler(FetchRequest.self, response: FetchResponse.self, versions: 4...4) { _, _ in
                await gate.wait()
                // Taken out of the box: from here on the response is the owner's only holder.
                guard let owner = region.withLockedValue({ owner in defer { owner = nil }; return owner }) else {
                    return FetchResponse()
                }
                return FetchResponse(responses: [.init(topic: "t", partitions: [
                    .init(partitionIndex: 0, records: RecordSet(parts: [.fileRegion(owner.region)], retaining: [owner])),
                ])])
            },
        ])
    }

    private func channel(router: RequestRouter, maximumInFlight: Int = 8) async throws -> NIOAsyncTestingChannel {
        let handler = KafkaConnectionHandler(
            router: router, logger: Logger(label: "test"), connectionId: 1, maximumInFlight: maximumInFlight,
            maximumInFlightBytes: 1 << 20, metrics: nil)
        let channel = NIOAsyncTestingChannel()
        try await channel.pipeline.addHandler(handler)
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9))
        return channel
    }

    private func frame(_ body: some KafkaRequestMessage, version: Int16, correlationId: Int32) throws -> ByteBuffer {
        var frame = try KafkaRequest.frame(body, version: version, correlationId: correlationId, clientId: "t")
        frame.moveReaderIndex(forwardBy: 4)
        return frame
    }

    /// The next response written, as (correlation id, body bytes after it).
    private func nextResponse(_ channel: NIOAsyncTestingChannel) async throws -> (Int32, ByteBuffer) {
        var buffer = ByteBuffer()
        while true {
            let part = try await channel.waitForOutboundWrite(as: IOData.self)
            guard case .byteBuffer(var bytes) = part else { continue }
            buffer.writeBuffer(&bytes)
            guard let size = buffer.getInteger(at: buffer.readerIndex, as: Int32.self),
                buffer.readableBytes >= 4 + Int(size)
            else { continue }
            buffer.moveReaderIndex(forwardBy: 4)
            let correlation = buffer.readInteger(as: Int32.self) ?? -1
            return (correlation, buffer)
        }
    }

    @Test func responses_areWrittenInRequestOrder_whateverOrderHandlersFinish() async throws {
        let gate = Gate()
        let channel = try await channel(router: router(gate: gate))
        try await channel.writeInbound(frame(MetadataRequest(topics: []), version: 1, correlationId: 1))
        try await channel.writeInbound(frame(MetadataRequest(topics: []), version: 1, correlationId: 2))
        // The second finishes first but must wait behind the first.
        try await Task.sleep(for: .milliseconds(50))
        #expect(try await channel.readOutbound(as: IOData.self) == nil)
        gate.open()
        #expect(try await nextResponse(channel).0 == 1)
        #expect(try await nextResponse(channel).0 == 2)
        _ = try? await channel.finish()
    }

    @Test func requestsPastTheInFlightLimit_waitUntilEarlierResponsesAreWritten() async throws {
        let gate = Gate()
        let started = NIOLockedValueBox<[Int32]>([])
        let channel = try await channel(router: router(gate: gate, started: started), maximumInFlight: 1)
        try await channel.writeInbound(frame(MetadataRequest(topics: []), version: 1, correlationId: 1))
        try await channel.writeInbound(frame(MetadataRequest(topics: []), version: 1, correlationId: 2))
        let deadline = ContinuousClock.now + .seconds(5)
        while started.withLockedValue({ $0.isEmpty }) && ContinuousClock.now < deadline {
            await channel.testingEventLoop.run()
            try await Task.sleep(for: .milliseconds(10))
        }
        for _ in 0..<5 {
            await channel.testingEventLoop.run()
            try await Task.sleep(for: .milliseconds(10))
        }
        // The second frame was read but waits, undecoded, until the first response has been written.
        #expect(started.withLockedValue { $0 } == [1])
        gate.open()
        #expect(try await nextResponse(channel).0 == 1)
        #expect(try await nextResponse(channel).0 == 2)
        #expect(started.withLockedValue { $0 } == [1, 2])
        _ = try? await channel.finish()
    }

    @Test func apiVersionsOfAnUnknownVersion_isAnsweredInTheV0Layout() async throws {
        let channel = try await channel(router: router(gate: Gate()))
        var frame = try frame(ApiVersionsRequest(), version: 3, correlationId: 9)
        frame.setInteger(Int16(99), at: frame.readerIndex + 2)
        try await channel.writeInbound(frame)
        var (correlation, body) = try await nextResponse(channel)
        #expect(correlation == 9)
        #expect(body.readInteger(as: Int16.self) == KafkaErrorCode.unsupportedVersion.rawValue)
        let count = body.readInteger(as: Int32.self) ?? 0
        #expect(count == 2)
        _ = try? await channel.finish()
    }

    private func regionFile() -> String {
        let path = NSTemporaryDirectory() + "portask-region-\(UUID().uuidString)"
        FileManager.default.createFile(atPath: path, contents: Data(repeating: 1, count: 100))
        return path
    }

    private func waitUntil(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(5)
        while !condition() && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
    }

    @Test func fileRegionsOfAnUnsentResponse_areReleasedWhenTheConnectionCloses() async throws {
        let path = regionFile()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let released = NIOLockedValueBox(0)
        let box = NIOLockedValueBox<RegionOwner?>(try RegionOwner(path: path, released: released))
        let gate = Gate()
        let channel = try await channel(router: router(gate: gate, region: box))
        try await channel.writeInbound(frame(FetchRequest(), version: 4, correlationId: 3))
        try await channel.close()
        gate.open()
        try await waitUntil { released.withLockedValue { $0 } > 0 }
        #expect(released.withLockedValue { $0 } == 1)
    }

    @Test func fileRegionsOfAWrittenResponse_areReleasedOnceWritten() async throws {
        let path = regionFile()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let released = NIOLockedValueBox(0)
        let box = NIOLockedValueBox<RegionOwner?>(try RegionOwner(path: path, released: released))
        let gate = Gate()
        gate.open()
        let channel = try await channel(router: router(gate: gate, region: box))
        try await channel.writeInbound(frame(FetchRequest(), version: 4, correlationId: 3))
        var regionBytes = 0
        while regionBytes == 0 {
            if case .fileRegion(let region) = try await channel.waitForOutboundWrite(as: IOData.self) {
                regionBytes = region.readableBytes
            }
        }
        #expect(regionBytes == 100)
        try await waitUntil { released.withLockedValue { $0 } > 0 }
        #expect(released.withLockedValue { $0 } == 1)
        _ = try? await channel.finish()
    }
}
