#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A progress bar on standard error, `[#########...........]  45%  1.2/2.7 GiB`, redrawn at most ten times a
/// second and erased when done. Drawn only when standard error is a terminal and the work is large enough to
/// take a noticeable time (`minimumBytes`).
///
/// Thread-safety: not thread-safe; the verifier drives it from one thread.
public final class ProgressBar {
    public static let minimumBytes = 64 << 20
    let total: Int
    let enabled: Bool
    private var done = 0
    private var lastDrawNs: UInt64 = 0
    private var drawn = false

    /// - Parameter enabled: nil decides from `isatty(2)` and `total >= minimumBytes`.
    public init(total: Int, enabled: Bool? = nil) {
        self.total = max(total, 1)
        self.enabled = enabled ?? (isatty(2) == 1 && total >= Self.minimumBytes)
    }

    /// Counts `bytes` more as done and redraws when due.
    public func advance(by bytes: Int) {
        done += bytes
        guard enabled else { return }
        let now = Self.monotonicNs()
        if drawn && now - lastDrawNs < 100_000_000 && done < total { return }
        lastDrawNs = now
        drawn = true
        Self.writeStderr("\r" + Self.render(done: done, total: total, width: 30))
    }

    /// Erases the bar.
    public func finish() {
        guard enabled, drawn else { return }
        Self.writeStderr("\r" + String(repeating: " ", count: 60) + "\r")
        drawn = false
    }

    /// The bar's text for `done` of `total` bytes.
    public static func render(done: Int, total: Int, width: Int) -> String {
        let fraction = min(1, Double(done) / Double(max(total, 1)))
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let percent = String(Int(fraction * 100))
        let padded = String(repeating: " ", count: max(0, 3 - percent.count)) + percent
        return "[\(bar)] \(padded)%  \(formatBytes(done))/\(formatBytes(total))"
    }

    static func formatBytes(_ bytes: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        if unit == 0 { return "\(bytes) B" }
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(units[unit])"
    }

    static func monotonicNs() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }

    static func writeStderr(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }
}
