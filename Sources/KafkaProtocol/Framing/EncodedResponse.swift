import NIOCore

/// One encoded response frame, ready to write: its parts (buffers, and file regions for stored record batches)
/// and the objects that own those regions' descriptors. Whoever writes the parts holds the value until the
/// write has completed or failed, then lets it go: that release is what closes (or hands back) a descriptor,
/// so every path (written, failed, connection closed, never written) releases it once and in one place.
/// A value type; thread-safe to share.
public struct EncodedResponse: Sendable {
    /// The frame, size prefix included, as parts in order.
    public var parts: [IOData]
    /// What must stay alive until `parts` have been written.
    public var retained: [any AnyObject & Sendable]

    public init(parts: [IOData], retained: [any AnyObject & Sendable] = []) {
        self.parts = parts
        self.retained = retained
    }

    /// Total length in bytes.
    public var byteCount: Int { parts.reduce(0) { $0 + $1.readableBytes } }
}
