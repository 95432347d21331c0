#if canImport(Glibc)
import Glibc
#endif
import Histogram
import NIOCore

/// A live progress line on stderr, rewritten once a second, only when stderr is a terminal.
///
/// Event-loop confined: `start` and `stop` run on the loop the sampler reads its state on, which is why the
/// class is `@unchecked Sendable`.
final class ProgressLine: @unchecked Sendable {
    typealias Sample = @Sendable () -> (messages: Int, bytes: Int, latency: Histogram<UInt64>)

    private let label: String
    private var task: RepeatedTask?
    private var lastMessages = 0
    private var lastBytes = 0
    private var printed = false

    /// A progress line, or `nil` when stderr is not a terminal.
    static func forTerminal(label: String) -> ProgressLine? {
        isatty(STDERR_FILENO) != 0 ? ProgressLine(label: label) : nil
    }

    private init(label: String) { self.label = label }

    func start(on loop: EventLoop, sample: @escaping Sample) {
        task = loop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { [self] _ in
            let (messages, bytes, latency) = sample()
            let p99 = latency.totalCount == 0 ? 0 : Double(latency.valueAtPercentile(99)) / 1e6
            let line = "\r\(label): \(messages) msgs  \(messages - lastMessages) msgs/s  "
                + "\(Double((bytes - lastBytes) / 10_000) / 100) MB/s  p99 \(Double(Int(p99 * 1000)) / 1000) ms   "
            lastMessages = messages
            lastBytes = bytes
            printed = true
            Self.writeToStandardError(line)
        }
    }

    /// Writes `text` to file descriptor 2 directly (no shared `FILE*`).
    private static func writeToStandardError(_ text: String) {
        var text = text
        text.withUTF8 { bytes in _ = write(STDERR_FILENO, bytes.baseAddress, bytes.count) }
    }

    func stop() {
        task?.cancel()
        task = nil
        if printed { Self.writeToStandardError("\r\u{1B}[K") }
    }
}
