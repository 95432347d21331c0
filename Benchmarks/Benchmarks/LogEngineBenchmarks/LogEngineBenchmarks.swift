// LogEngine micro-benchmarks. Throughput figures are operations per second; RESULTS.md converts them to MB/s.
// Run: cd Benchmarks && swift package benchmark --target LogEngineBenchmarks

import Benchmark
import Foundation
import LogEngine
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

let kib = 1024
let mib = 1024 * 1024

/// Shared state, built once per process.
final class Fixture: @unchecked Sendable {
    static let shared = Fixture()
    let root: String
    let lock = NSLock()
    private var counter = 0

    init() {
        root = NSTemporaryDirectory() + "logengine-bench-\(getpid())"
        try? FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    func freshDirectory(_ name: String) -> String {
        lock.withLock { counter += 1 }
        let path = root + "/\(name)-\(counter)"
        try? FileManager.default.removeItem(atPath: path)
        return path
    }

    static func batch(size: Int, seed: Int = 0) -> [UInt8] {
        let records = 16
        let valueSize = max(1, (size - 61) / records - 12)
        return RecordBatchBuilder(baseTimestamp: 1_700_000_000_000 + Int64(seed)).build(count: records) { index in
            [UInt8](repeating: UInt8(truncatingIfNeeded: index &+ seed), count: valueSize)
        }
    }

    static let config = LogConfig(segmentBytes: 256 * mib, retentionMs: -1)

    /// Keeps benchmark logs from filling the disk: drops everything but the active segment past 1 GiB.
    static func trim(_ log: PartitionLog) throws {
        if log.sizeInBytes > 1024 * mib {
            try log.deleteRecords(before: log.highWatermark)
        }
    }
}

/// A log opened on first use, so that registering benchmarks creates no files.
final class LazyLog: @unchecked Sendable {
    private let lock = NSLock()
    private let name: String
    private var log: PartitionLog?

    init(_ name: String) { self.name = name }

    func get() throws -> PartitionLog {
        try lock.withLock {
            if let log { return log }
            let opened = try PartitionLog(directory: Fixture.shared.freshDirectory(name), config: Fixture.config)
            log = opened
            return opened
        }
    }
}

/// A log of 256 MiB of 16 KiB batches with timestamps 0, 1, 2, ..., for the read-side benchmarks.
final class ReadFixture: @unchecked Sendable {
    static let shared = ReadFixture()
    let log: PartitionLog
    let directory: String
    let batches: Int

    init() {
        directory = Fixture.shared.freshDirectory("read")
        let log = try! PartitionLog(directory: directory, config: Fixture.config)
        batches = 256 * mib / (16 * kib)
        for index in 0..<batches {
            var builder = RecordBatchBuilder(baseTimestamp: Int64(index) * 16)
            builder.baseTimestamp = Int64(index) * 16
            let bytes = builder.build(count: 16) { _ in [UInt8](repeating: 7, count: 16 * kib / 16 - 14) }
            try! log.append(ByteBuffer(bytes: bytes))
        }
        try! log.flush()
        self.log = log
    }
}

/// A closed log of 256 MiB that each recovery benchmark iteration reopens with recovery point 0.
final class RecoveryFixture: @unchecked Sendable {
    static let shared = RecoveryFixture()
    let directory: String

    init() {
        directory = Fixture.shared.freshDirectory("recovery")
        let log = try! PartitionLog(directory: directory, config: Fixture.config)
        let batch = Fixture.batch(size: 16 * kib)
        for _ in 0..<(256 * mib / batch.count) { try! log.append(ByteBuffer(bytes: batch)) }
        try! log.close()
    }
}

/// Appends `perAppender` batches from each of `appenders` concurrent tasks, durably.
func durableAppends(_ log: PartitionLog, batch: [UInt8], appenders: Int, perAppender: Int) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<appenders {
            group.addTask {
                for _ in 0..<perAppender { try await log.appendDurably(ByteBuffer(bytes: batch)) }
            }
        }
        try await group.waitForAll()
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 2, maxDuration: .seconds(3), maxIterations: 100_000)
    // Remove the logs written under the temporary directory once every benchmark of the target has run.
    Benchmark.teardown = { try? FileManager.default.removeItem(atPath: Fixture.shared.root) }

    // MARK: CRC-32C

    for size in [4 * kib, 1 * mib] {
        let bytes = [UInt8](repeating: 0xA5, count: size)
        Benchmark("CRC32C hardware \(size / kib) KiB") { benchmark in
            for _ in benchmark.scaledIterations { blackHole(CRC32C.checksum(bytes)) }
        }
        Benchmark("CRC32C software \(size / kib) KiB") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(bytes.withUnsafeBytes { CRC32C.softwareChecksum($0) })
            }
        }
    }

    // MARK: Append, buffered and durable. Every operation appends 32 MiB, so MB/s = 32 MiB / time per op.

    for size in [16 * kib, 1 * mib] {
        let batch = Fixture.batch(size: size)
        let appends = 32 * mib / batch.count
        let lazyLog = LazyLog("append-\(size)")
        Benchmark(
            "Append buffered \(size / kib) KiB batches (32 MiB per op)",
            configuration: .init(maxDuration: .seconds(4), maxIterations: 100)
        ) { benchmark in
            let log = try lazyLog.get()
            for _ in 0..<appends { try log.append(ByteBuffer(bytes: batch)) }
            try Fixture.trim(log)
        }
    }

    for size in [16 * kib, 1 * mib] {
        for appenders in [1, 8] {
            let batch = Fixture.batch(size: size)
            let lazyLog = LazyLog("durable-\(size)-\(appenders)")
            let perAppender = 32 * mib / batch.count / appenders
            Benchmark(
                "Append durable \(size / kib) KiB batches, \(appenders) appenders (32 MiB per op)",
                configuration: .init(maxDuration: .seconds(4), maxIterations: 50)
            ) { benchmark async throws in
                let log = try lazyLog.get()
                try await durableAppends(log, batch: batch, appenders: appenders, perAppender: perAppender)
                try Fixture.trim(log)
            }
        }
    }

    // MARK: Raw write paths (which append mechanism to use)

    Benchmark("Raw pwrite 1 MiB into file") { benchmark in
        let path = Fixture.shared.freshDirectory("raw-pwrite")
        let fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o644)
        let chunk = [UInt8](repeating: 1, count: mib)
        benchmark.startMeasurement()
        for index in 0..<256 {
            _ = chunk.withUnsafeBytes { pwrite(fd, $0.baseAddress, mib, off_t(index * mib)) }
        }
        benchmark.stopMeasurement()
        close(fd)
        unlink(path)
    }

    Benchmark("Raw pwrite 16 KiB appends (256 MiB per op)") { benchmark in
        let path = Fixture.shared.freshDirectory("raw-pwrite-16")
        let fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o644)
        let chunk = [UInt8](repeating: 1, count: 16 * kib)
        benchmark.startMeasurement()
        for index in 0..<(16 * 1024) {
            _ = chunk.withUnsafeBytes { pwrite(fd, $0.baseAddress, 16 * kib, off_t(index * 16 * kib)) }
        }
        benchmark.stopMeasurement()
        close(fd)
        unlink(path)
    }

    Benchmark("Raw memcpy 1 MiB into preallocated mapping") { benchmark in
        let path = Fixture.shared.freshDirectory("raw-mmap")
        let fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o644)
        ftruncate(fd, off_t(256 * mib))
        let base = mmap(nil, 256 * mib, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
        let chunk = [UInt8](repeating: 1, count: mib)
        benchmark.startMeasurement()
        if let base, base != MAP_FAILED {
            for index in 0..<256 {
                chunk.withUnsafeBytes { source in
                    if let from = source.baseAddress { _ = memcpy(base + index * mib, from, mib) }
                }
            }
        }
        benchmark.stopMeasurement()
        if let base, base != MAP_FAILED { munmap(base, 256 * mib) }
        close(fd)
        unlink(path)
    }

    // MARK: Reads

    Benchmark("Offset lookup (slice of one batch at a random offset)") { benchmark in
        let fixture = ReadFixture.shared
        let end = fixture.log.logEndOffset
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try fixture.log.read(from: Int64.random(in: 0..<end), maxBytes: 1))
        }
    }

    Benchmark("Timestamp lookup (random timestamp)") { benchmark in
        let fixture = ReadFixture.shared
        let last = Int64(fixture.batches * 16)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try fixture.log.offset(forTimestamp: Int64.random(in: 0..<last)))
        }
    }

    Benchmark("Read slice 1 MiB copied through the mapping") { benchmark in
        let fixture = ReadFixture.shared
        let end = fixture.log.logEndOffset
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let slice = try fixture.log.read(from: Int64.random(in: 0..<(end - 1024)), maxBytes: mib)
            blackHole(try slice?.readBuffer())
        }
    }

    // MARK: Recovery

    Benchmark("Recovery scan of 256 MiB (CRC-checked, index rebuild)", configuration: .init(maxIterations: 10)) { benchmark in
        let fixture = RecoveryFixture.shared
        benchmark.startMeasurement()
        let log = try PartitionLog(directory: fixture.directory, config: Fixture.config, recoveryPoint: 0)
        benchmark.stopMeasurement()
        blackHole(log.recoveryStats.bytesScanned)
    }
}
