#if canImport(Glibc)
import Glibc
#endif
import Histogram
import KafkaProtocol
import LogEngine
import NIOCore

/// Runs one produce load on one connection and measures it.
///
/// Messages "arrive" as fast as in-flight slots allow (unlimited rate) or at `rate` per second, generated on a
/// 250 µs tick. They accumulate in one open batch per run (sticky partitioning: each batch goes to the next
/// partition in turn) that closes when it holds `batchBytes` or is `lingerMs` old; each closed batch is one
/// Produce request when fewer than `maxInFlight` are outstanding. The ack latency of a message is the time from
/// its creation to the response of its request (for acks=0: to the write).
///
/// Event-loop confined: create and `start()` it on the connection's event loop; every callback runs there,
/// which is why the class is `@unchecked Sendable`.
final class ProduceDriver: @unchecked Sendable {
    private struct Batch {
        var partition: Int32
        var count = 0
        /// Creation times (ns) of the messages, run-length encoded.
        var created: [(time: UInt64, count: Int)] = []
        var firstCreated: UInt64 = 0
    }

    let settings: ProduceSettings
    let connection: BenchConnection
    let progress: ProgressLine?
    private var encoder: BatchEncoder
    private let messagesPerBatch: Int
    private let allocator = ByteBufferAllocator()
    private let done: EventLoopPromise<RunResult>
    private var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
    private var open: Batch?
    private var ready: CircularBuffer<Batch> = []
    private var nextPartition = 0
    private var inFlight = 0
    private var generated = 0
    private var acked = 0
    private var wireBytes = 0
    private var requests = 0
    private var startTime: UInt64 = 0
    private var generationEnded = false
    private var failed = false
    private var ticker: RepeatedTask?

    init(settings: ProduceSettings, connection: BenchConnection, progress: ProgressLine?) {
        self.settings = settings
        self.connection = connection
        self.progress = progress
        encoder = BatchEncoder(messageSize: settings.messageSize, codec: settings.codec)
        messagesPerBatch = max(1, settings.batchBytes / max(1, encoder.recordSize))
        done = connection.eventLoop.makePromise(of: RunResult.self)
    }

    /// Starts the run; the future completes when every generated message is acknowledged.
    func start() -> EventLoopFuture<RunResult> {
        connection.eventLoop.preconditionInEventLoop()
        startTime = NIODeadline.now().uptimeNanoseconds
        progress?.start(on: connection.eventLoop) { [self] in (acked, acked * settings.messageSize, histogram) }
        let interval: TimeAmount = settings.rate > 0 ? .microseconds(250) : .milliseconds(1)
        ticker = connection.eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: interval) { [self] _ in
            tick()
        }
        return done.futureResult
    }

    private func tick() {
        guard !failed else { return }
        let now = NIODeadline.now().uptimeNanoseconds
        if let duration = settings.duration, now - startTime >= UInt64(duration.nanoseconds) {
            generationEnded = true
        }
        if settings.rate > 0 {
            let due = Int(Double(now - startTime) / 1e9 * settings.rate) + 1
            generate(upTo: min(due, settings.count ?? .max), now: now)
        } else {
            fillWhileSlotsFree(now: now)
        }
        closeLingering(now: now)
        sendReady()
        finishIfDone()
    }

    /// Unlimited rate: new full batches for every free slot (and one queued ahead).
    private func fillWhileSlotsFree(now: UInt64) {
        while !generationEnded && inFlight + ready.count < settings.maxInFlight + 1 {
            let remaining = (settings.count ?? .max) - generated
            if remaining <= 0 {
                generationEnded = true
                break
            }
            generate(upTo: generated + min(remaining, messagesPerBatch - (open?.count ?? 0)), now: now)
            closeOpen()
        }
    }

    private func generate(upTo target: Int, now: UInt64) {
        guard !generationEnded else { return }
        while generated < target {
            if open == nil {
                open = Batch(partition: settings.partitions[nextPartition % settings.partitions.count], firstCreated: now)
                nextPartition += 1
            }
            let take = min(target - generated, messagesPerBatch - open!.count)
            open!.count += take
            open!.created.append((now, take))
            generated += take
            if open!.count == messagesPerBatch { closeOpen() }
        }
        if let count = settings.count, generated >= count { generationEnded = true }
    }

    private func closeOpen() {
        if let batch = open, batch.count > 0 { ready.append(batch) }
        open = nil
    }

    private func closeLingering(now: UInt64) {
        guard let batch = open else { return }
        if generationEnded || now - batch.firstCreated >= UInt64(settings.lingerMs) * 1_000_000 { closeOpen() }
    }

    private func sendReady() {
        while inFlight < settings.maxInFlight, let batch = ready.popFirst() {
            send(batch)
        }
    }

    private func send(_ batch: Batch) {
        let records: ByteBuffer
        do {
            records = try encoder.batch(
                count: batch.count, timestamp: wallClockMs(), allocator: allocator)
        } catch {
            fail(error)
            return
        }
        wireBytes += records.readableBytes
        let request = ProduceRequest(
            acks: settings.acks, timeoutMs: settings.timeoutMs,
            topicData: [.init(name: settings.topic, partitionData: [.init(index: batch.partition, records: RecordSet(bytes: records))])])
        inFlight += 1
        requests += 1
        connection.send(request, version: 9, expectsResponse: settings.acks != 0).whenComplete { [self] result in
            // A write can complete synchronously (acks=0): continue on a fresh event-loop task, not recursively.
            if settings.acks == 0 {
                connection.eventLoop.execute { [self] in completed(batch, result) }
            } else {
                completed(batch, result)
            }
        }
    }

    private func completed(_ batch: Batch, _ result: Result<ByteBuffer?, Error>) {
        inFlight -= 1
        switch result {
        case .failure(let error): fail(error)
        case .success(let frame):
            if let frame, let error = Self.errorIn(frame) {
                fail(error)
                return
            }
            acknowledge(batch)
        }
    }

    private func acknowledge(_ batch: Batch) {
        let now = NIODeadline.now().uptimeNanoseconds
        for run in batch.created {
            _ = histogram.record(now >= run.time ? now - run.time : 0, count: UInt64(run.count))
        }
        acked += batch.count
        if settings.rate == 0 { fillWhileSlotsFree(now: now) }
        sendReady()
        finishIfDone()
    }

    private static func errorIn(_ frame: ByteBuffer) -> Error? {
        do {
            let response = try KafkaResponseFrame.decode(ProduceResponse.self, frame: frame, version: 9).body
            for topic in response.responses {
                for partition in topic.partitionResponses where partition.errorCode != 0 {
                    return BenchError(
                        "produce to \(topic.name)-\(partition.index) failed: error \(partition.errorCode) "
                            + (partition.errorMessage ?? ""))
                }
            }
            return nil
        } catch {
            return error
        }
    }

    private func finishIfDone() {
        guard generationEnded, open == nil, ready.isEmpty, inFlight == 0, !failed else { return }
        failed = true  // finished: ignore late ticks
        ticker?.cancel()
        progress?.stop()
        let elapsed = Double(NIODeadline.now().uptimeNanoseconds - startTime) / 1e9
        done.succeed(RunResult(
            messages: acked, payloadBytes: acked * settings.messageSize, wireBytes: wireBytes, seconds: elapsed,
            latency: histogram, requests: requests))
    }

    private func fail(_ error: Error) {
        guard !failed else { return }
        failed = true
        ticker?.cancel()
        progress?.stop()
        done.fail(error)
    }
}

/// Milliseconds since the Unix epoch (record timestamps).
func wallClockMs() -> Int64 {
    var spec = timespec()
    clock_gettime(CLOCK_REALTIME, &spec)
    return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
}
