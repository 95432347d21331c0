#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open descriptor of one segment's `.log` file, closed when its last holder lets it go: the segment while
/// the file is in use, and every `FileSlice` read from it (so a fetch sending a slice with sendfile keeps the
/// descriptor open until the response is written, even if the segment closed its own reference or was
/// deleted meanwhile). Nobody else closes the descriptor.
///
/// Thread-safety: immutable; `Sendable`.
public final class SegmentFile: Sendable {
    /// The descriptor (read-write). Valid as long as this object is alive; never close it.
    public let descriptor: CInt

    init(descriptor: CInt) {
        self.descriptor = descriptor
    }

    deinit {
        close(descriptor)
    }
}
