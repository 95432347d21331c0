import Histogram
import KafkaProtocol
import LogEngine
import NIOCore

/// Fetches a topic as a consumer does (one Fetch in flight on the connection, every unfinished partition in
/// each request) and counts the records in the returned batches from their headers, without decompressing.
/// A partial batch at the end of a partition's records is left for the next fetch, as clients do.
///
/// Event-loop confined: create and `start()` it on the connection's event loop; every callback runs there,
/// which is why the class is `@unchecked Sendable`.
final class ConsumeDriver: @unchecked Sendable {
    let settings: ConsumeSettings
    let connection: BenchConnection
    let progress: ProgressLine?
    private let done: EventLoopPromise<RunResult>
    private var position: [Int32: Int64]
    private var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
    private var messages = 0
    private var bytes = 0
    private var requests = 0
    private var startTime: UInt64 = 0

    init(settings: ConsumeSettings, connection: BenchConnection, progress: ProgressLine?) {
        self.settings = settings
        self.connection = connection
        self.progress = progress
        position = settings.start
        done = connection.eventLoop.makePromise(of: RunResult.self)
    }

    func start() -> EventLoopFuture<RunResult> {
        connection.eventLoop.preconditionInEventLoop()
        startTime = NIODeadline.now().uptimeNanoseconds
        progress?.start(on: connection.eventLoop) { [self] in (messages, bytes, histogram) }
        fetchNext()
        return done.futureResult
    }

    private var unfinished: [Int32] {
        position.keys.sorted().filter { partition in
            guard let end = settings.end?[partition] else { return true }
            return position[partition]! < end
        }
    }

    private func fetchNext() {
        let now = NIODeadline.now().uptimeNanoseconds
        let partitions = unfinished
        let timeUp = settings.duration.map { now - startTime >= UInt64($0.nanoseconds) } ?? false
        if partitions.isEmpty || timeUp || messages >= (settings.count ?? .max) {
            finish()
            return
        }
        let request = FetchRequest(
            maxWaitMs: settings.maxWaitMs, minBytes: 1, maxBytes: settings.fetchMaxBytes,
            topics: [.init(topic: settings.topic, partitions: partitions.map {
                .init(partition: $0, fetchOffset: position[$0]!, partitionMaxBytes: settings.partitionMaxBytes)
            })])
        requests += 1
        connection.send(request, version: 12).whenComplete { [self] result in
            do {
                guard let frame = try result.get() else { throw BenchError("fetch without response") }
                let response = try KafkaResponseFrame.decode(FetchResponse.self, frame: frame, version: 12).body
                _ = histogram.record(NIODeadline.now().uptimeNanoseconds - now)
                try consume(response)
                fetchNext()
            } catch {
                progress?.stop()
                done.fail(error)
            }
        }
    }

    private func consume(_ response: FetchResponse) throws {
        guard response.errorCode == 0 else { throw BenchError("fetch failed: error \(response.errorCode)") }
        for topic in response.responses {
            for partition in topic.partitions {
                guard partition.errorCode == 0 else {
                    throw BenchError("fetch \(topic.topic)-\(partition.partitionIndex): error \(partition.errorCode)")
                }
                guard let records = partition.records?.bytes, records.readableBytes > 0 else { continue }
                try walk(records, partition: partition.partitionIndex)
            }
        }
    }

    /// Counts the whole batches in `records` (a partial batch at the end of a fetch response is skipped) and
    /// advances the partition's position past them.
    private func walk(_ records: ByteBuffer, partition: Int32) throws {
        var fetchOffset = position[partition] ?? 0
        try records.withUnsafeReadableBytes { raw in
            for batch in RecordBatchSequence(raw) {
                let header = batch.header
                let (baseOffset, total, lastOffset) = (header.baseOffset, header.totalSize, header.lastOffset)
                let recordCount = Int(header.recordCount)
                if settings.checkCRC {
                    let computed = RecordBatchHeader.computeCRC(in: raw, at: batch.position, totalSize: total)
                    guard header.crc == computed else {
                        throw BenchError("CRC mismatch in batch at offset \(baseOffset)")
                    }
                }
                if lastOffset >= fetchOffset {
                    let skipped = max(0, Int(fetchOffset - baseOffset))
                    let wanted = (settings.count ?? .max) - messages
                    guard wanted > 0 else { break }
                    // Records of a batch are counted up to the requested number (offsets assumed contiguous).
                    let taken = min(max(0, recordCount - skipped), wanted)
                    messages += taken
                    bytes += total
                    fetchOffset = taken < recordCount - skipped ? fetchOffset + Int64(taken) : lastOffset + 1
                }
            }
        }
        position[partition] = fetchOffset
    }

    private func finish() {
        progress?.stop()
        let elapsed = Double(NIODeadline.now().uptimeNanoseconds - startTime) / 1e9
        done.succeed(RunResult(
            messages: messages, payloadBytes: bytes, wireBytes: bytes, seconds: elapsed, latency: histogram,
            requests: requests))
    }
}
