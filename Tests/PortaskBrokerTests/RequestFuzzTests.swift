import Foundation
import KafkaProtocol
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Testing
@testable import PortaskBroker

/// A bounded, deterministic mutation fuzzer over the whole request path: frame decoding (with the per-request
/// decoding budget) and then every served handler, against an in-process broker with its own data directory.
///
/// Seeds: the golden request frames captured from librdkafka 2.16, librdkafka 2.0.2 (kcat) and kafka-python
/// (`Tests/KafkaProtocolTests/Fixtures/golden`), plus requests built here for APIs those captures lack
/// (offset commits, topic admin, describe calls, KIP-848 heartbeats). Mutations are structure-blind but
/// aimed at Kafka's encodings: integers of every width overwritten with extreme values (0, -1, min, max),
/// bit flips, truncation, duplicated and spliced ranges. A trap anywhere fails the whole test run, so the
/// pass criterion is simply that every input is answered, refused or errors. A handler that does not finish
/// within its deadline is cancelled and counted, so a hang is visible without stalling the suite.
struct RequestFuzzTests {
    /// The seeds' frames (without their size prefix).
    static func seeds() throws -> [ByteBuffer] {
        let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../KafkaProtocolTests/Fixtures/golden").standardized
        var frames: [ByteBuffer] = []
        let files = (FileManager.default.enumerator(atPath: golden.path)?.compactMap { $0 as? String } ?? [])
            .filter { $0.hasSuffix(".bin") }.sorted()
        for file in files {
            let bytes = try Data(contentsOf: golden.appendingPathComponent(file))
            var buffer = ByteBuffer(bytes: bytes)
            if let size = buffer.getInteger(at: 0, as: Int32.self), Int(size) == bytes.count - 4 {
                buffer.moveReaderIndex(forwardBy: 4)
            }
            frames.append(buffer)
        }
        func add(_ body: some KafkaRequestMessage, _ version: Int16) throws {
            var frame = try KafkaRequest.frame(body, version: version, correlationId: 7, clientId: "fuzz")
            frame.moveReaderIndex(forwardBy: 4)
            frames.append(frame)
        }
        let commit = OffsetCommitRequest(
            groupId: "g", generationIdOrMemberEpoch: -1, memberId: "", retentionTimeMs: -1,
            topics: [.init(name: "fuzz", partitions: [.init(partitionIndex: 0, committedOffset: 5, commitTimestamp: -1)])])
        for version: Int16 in [1, 2, 5, 8, 9] { try add(commit, version) }
        try add(CreateTopicsRequest(topics: [.init(name: "created", numPartitions: 2, replicationFactor: 1)], timeoutMs: 1000), 7)
        try add(DescribeGroupsRequest(groups: ["g", "h"]), 5)
        try add(OffsetFetchRequest(groupId: "g", topics: [.init(name: "fuzz", partitionIndexes: [0])]), 7)
        try add(ConsumerGroupHeartbeatRequest(
            groupId: "cg", memberId: "m", memberEpoch: 0, rebalanceTimeoutMs: 1000,
            subscribedTopicNames: ["fuzz"], subscribedTopicRegex: "fu.*", topicPartitions: []), 1)
        try add(DeleteRecordsRequest(topics: [.init(name: "fuzz", partitions: [.init(partitionIndex: 0, offset: 1)])], timeoutMs: 100), 2)
        try add(CreatePartitionsRequest(topics: [.init(name: "fuzz", count: 3)], timeoutMs: 100), 3)
        try add(ListOffsetsRequest(replicaId: -1, topics: [.init(name: "fuzz", partitions: [.init(partitionIndex: 0, timestamp: -1)])]), 6)
        try add(DescribeConfigsRequest(resources: [.init(resourceType: 2, resourceName: "fuzz")]), 4)
        return frames
    }

    /// The next input: a seed with one to four mutations.
    static func mutate(_ seed: ByteBuffer, with generator: inout some RandomNumberGenerator) -> ByteBuffer {
        var bytes = Array(seed.readableBytesView)
        let extremes: [UInt64] = [0, .max, 0x7F, 0x80, 0x7FFF, 0x8000, 0x7FFF_FFFF, 0x8000_0000, 0x7FFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000, 1]
        for _ in 0..<Int.random(in: 1...4, using: &generator) where !bytes.isEmpty {
            switch Int.random(in: 0..<6, using: &generator) {
            case 0, 1:  // an integer of 1, 2, 4 or 8 bytes overwritten with an extreme value
                let width = [1, 2, 4, 8].randomElement(using: &generator)!
                guard bytes.count >= width else { continue }
                let at = Int.random(in: 0...(bytes.count - width), using: &generator)
                let value = extremes.randomElement(using: &generator)!
                for index in 0..<width { bytes[at + index] = UInt8(truncatingIfNeeded: value >> (8 * (width - 1 - index))) }
            case 2:  // bit flips
                for _ in 0..<Int.random(in: 1...8, using: &generator) {
                    bytes[Int.random(in: 0..<bytes.count, using: &generator)] ^= 1 << UInt8.random(in: 0..<8, using: &generator)
                }
            case 3:  // truncation
                bytes.removeLast(Int.random(in: 1...bytes.count, using: &generator))
            case 4:  // a range duplicated in place
                let start = Int.random(in: 0..<bytes.count, using: &generator)
                let end = min(bytes.count, start + Int.random(in: 1...64, using: &generator))
                bytes.insert(contentsOf: bytes[start..<end], at: start)
            default:  // a varint-looking run (a huge compact length)
                let at = Int.random(in: 0..<bytes.count, using: &generator)
                let run: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0x0F]
                bytes.replaceSubrange(at..<min(bytes.count, at + run.count), with: run)
            }
        }
        // Keep the API key and version decodable most of the time, so handlers are reached.
        if bytes.count >= 4, seed.readableBytes >= 4, Bool.random(using: &generator) {
            for index in 0..<4 { bytes[index] = seed.getInteger(at: seed.readerIndex + index, as: UInt8.self) ?? 0 }
        }
        return ByteBuffer(bytes: bytes)
    }

    /// Runs one frame through decoding and its handler; returns whether a handler ran and whether it finished.
    static func run(_ frame: ByteBuffer, router: RequestRouter) async -> (handled: Bool, finished: Bool) {
        let finished = await answer(frame, router: router)
        return (finished != nil, finished ?? true)
    }

    /// `nil` when the frame reaches no handler, else whether the handler finished before its deadline.
    static func answer(_ frame: ByteBuffer, router: RequestRouter) async -> Bool? {
        guard let request = try? KafkaRequest.decode(frame: frame),
            let handler = router.handler(for: request.apiKey), handler.versions.contains(request.header.apiVersion)
        else { return nil }
        let context = RequestContext(
            apiKey: request.apiKey, apiVersion: request.header.apiVersion,
            correlationId: request.header.correlationId, clientId: request.header.clientId)
        // Whichever comes first: the handler's answer or its deadline (then it is cancelled and abandoned, as a
        // closed connection abandons it).
        let first = NIOLockedValueBox<CheckedContinuation<Bool, Never>?>(nil)
        return await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            first.withLockedValue { $0 = continuation }
            let work = Task {
                if let completion = try? await handler.respond(request, context) {
                    // Dropping the encoded response releases any file region it owns.
                    _ = try? await completion()
                }
                first.withLockedValue { $0?.resume(returning: true); $0 = nil }
            }
            Task {
                try? await Task.sleep(for: .seconds(2))
                work.cancel()
                first.withLockedValue { $0?.resume(returning: false); $0 = nil }
            }
        }
    }

    @Test(.timeLimit(.minutes(60)))
    func mutatedRequests_neverCrashTheBroker() async throws {
        let directory = NSTemporaryDirectory() + "portask-fuzz-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let broker = try Broker(
            config: BrokerConfig(properties: [
                "log.dirs": directory, "group.initial.rebalance.delay.ms": "0", "max.partitions": "200",
            ]),
            logger: Logger(label: "fuzz"))
        await broker.groups.start()
        try broker.topics.create(name: "fuzz", partitions: 2)
        let router = broker.makeRouter()
        let seeds = try Self.seeds()
        #expect(seeds.count >= 40)
        // PORTASK_FUZZ_SEED and PORTASK_FUZZ_SECONDS run other or longer campaigns; the suite's run is fixed.
        let environment = ProcessInfo.processInfo.environment
        var generator = SplitMix64(seed: environment["PORTASK_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x5EED_F022)
        let seconds = environment["PORTASK_FUZZ_SECONDS"].flatMap { Int($0) } ?? 15
        var executions = 0, handled = 0, unfinished = 0
        let budget = ContinuousClock.now + .seconds(seconds)
        for seed in seeds { _ = await Self.run(seed, router: router) }
        while ContinuousClock.now < budget && (executions < 40_000 || seconds > 15) {
            let seed = seeds[Int.random(in: 0..<seeds.count, using: &generator)]
            let outcome = await Self.run(Self.mutate(seed, with: &generator), router: router)
            executions += 1
            if outcome.handled { handled += 1 }
            if !outcome.finished { unfinished += 1 }
        }
        print("request fuzz: \(executions) executions, \(handled) reached a handler, \(unfinished) cancelled at their deadline")
        #expect(executions > 500)
        #expect(handled > executions / 20)
        await broker.groups.stop()
        try broker.topics.close()
    }
}

/// A small deterministic generator (SplitMix64), so fuzz runs are reproducible.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
