import Foundation
import LogEngine
import Testing
@testable import PortaskVerifyKit

/// Bounded, deterministic fuzzing of the verifier: a data directory (a Kafka-format partition, its checkpoints,
/// a leader epoch checkpoint and a producer snapshot) is copied and one or two files damaged: binary files by
/// bit flips, extreme 32/64-bit values, truncations and tails; text files by numbers replaced with extremes
/// (Int.max, Int64.min, 20 digits, -1). `check --deep`, `dump`, `--repair` and a second check must never crash,
/// and after the repair only unrepairable damage may remain. Seed 0xF1E5: 300 rounds in about 3.5 s in a debug
/// build (the count is printed; capped at 8 s).
struct VerifierFuzzTests {
    /// SplitMix64.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let numbers = ["\(Int.max)", "\(Int64.min)", "99999999999999999999", "-1", "0", "\(Int32.max)", "\(Int32.min)"]

    static func template(in directory: String) throws -> [String] {
        let (partition, logEnd) = try makeKafkaPartition(in: directory, segments: 3, batchesPerSegment: 4)
        try Damager.write(Array("0\n1\norders 0 \(logEnd)\n".utf8), directory + "/recovery-point-offset-checkpoint")
        try Damager.write(Array("0\n1\norders 0 0\n".utf8), directory + "/log-start-offset-checkpoint")
        try Damager.write(Array("version=1\ncluster.id=abc\nnode.id=0\n".utf8), directory + "/meta.properties")
        try Damager.write(Array("0\n2\n0 0\n3 \(logEnd)\n".utf8), partition + "/leader-epoch-checkpoint")
        let producer = ProducerStateEntry(producerId: 5, producerEpoch: 0, batches: [
            .init(firstSequence: 0, lastSequence: 2, firstOffset: 0, lastOffset: 2, timestamp: 1_700_000_000_000),
        ], lastTimestamp: 1_700_000_000_000)
        let snapshot = ProducerStateSnapshot.encode(ProducerStateManager(producers: [5: producer]))
        try Damager.write(snapshot, ProducerStateSnapshot.path(directory: partition, offset: logEnd))
        var files: [String] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: partition) { files.append("orders-0/" + name) }
        return files.sorted() + ["recovery-point-offset-checkpoint", "log-start-offset-checkpoint", "meta.properties"]
    }

    static func damage(_ path: String, using random: inout Generator) throws {
        var bytes = try Damager.read(path)
        let isText = path.hasSuffix("checkpoint") || path.hasSuffix(".properties")
        if isText, Bool.random(using: &random) {
            var text = String(decoding: bytes, as: UTF8.self)
            let tokens = text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "=" })
            if let token = tokens.randomElement(using: &random), let range = text.range(of: token) {
                text.replaceSubrange(range, with: numbers.randomElement(using: &random)!)
            }
            bytes = Array(text.utf8)
        } else {
            switch Int.random(in: 0..<5, using: &random) {
            case 0:
                if !bytes.isEmpty { bytes[Int.random(in: 0..<bytes.count, using: &random)] ^= 1 << UInt8.random(in: 0..<8, using: &random) }
            case 1:
                if bytes.count >= 4 {
                    let at = Int.random(in: 0...(bytes.count - 4), using: &random)
                    let value = [Int32.max, .min, -1, 0].randomElement(using: &random)!
                    bytes.withUnsafeMutableBytes { $0.storeBytes(of: value.bigEndian, toByteOffset: at, as: Int32.self) }
                }
            case 2:
                if bytes.count >= 8 {
                    let at = Int.random(in: 0...(bytes.count - 8), using: &random)
                    let value = [Int64.max, .min, -1, 0].randomElement(using: &random)!
                    bytes.withUnsafeMutableBytes { $0.storeBytes(of: value.bigEndian, toByteOffset: at, as: Int64.self) }
                }
            case 3:
                if !bytes.isEmpty { bytes.removeLast(Int.random(in: 1...bytes.count, using: &random)) }
            default:
                bytes += (0..<Int.random(in: 1...200, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            }
        }
        try Damager.write(bytes, path)
    }

    @Test func damagedDataDirectories_neverCrashCheckDumpOrRepair() throws {
        let template = TemporaryDirectory()
        let files = try Self.template(in: template.path)
        #expect(try Verifier(deep: true).verify([template.path]).isClean)
        var random = Generator(state: 0xF1E5)
        let started = Date()
        var rounds = 0
        while rounds < 300 && Date().timeIntervalSince(started) < 8 {
            rounds += 1
            let directory = TemporaryDirectory()
            try FileManager.default.createDirectory(atPath: directory.file("orders-0"), withIntermediateDirectories: true)
            for file in files { try FileManager.default.copyItem(atPath: template.file(file), toPath: directory.file(file)) }
            for _ in 0..<Int.random(in: 1...2, using: &random) {
                try Self.damage(directory.file(files.randomElement(using: &random)!), using: &random)
            }
            _ = try Verifier(deep: true).verify([directory.path])
            var output = ""
            try Dumper(detail: .data, json: rounds % 2 == 0).dump([directory.file("orders-0")], to: &output)
            let repaired = try Verifier().verifyAndRepair([directory.path])
            #expect(repaired.remainingDamage?.allSatisfy { !$0.repairable } == true, "\(repaired.text)")
            _ = try Verifier().verify([directory.path])
        }
        print("VerifierFuzzTests: \(rounds) damaged data directories checked and repaired")
    }
}
