import KafkaProtocol
import LogEngine
import NIOCore

/// The one owner of a zero-copy fetch's file region: it holds the `FileSlice` (and with it the segment file's
/// descriptor, open while the slice lives) and the `NIOFileHandle` the region borrows that descriptor through.
/// Carried in the response's `RecordSet.retained`, it lives until the connection handler lets the encoded
/// response go (written, failed, or dropped when the connection closed); its deinit, the only place, hands the
/// borrowed descriptor back without closing it, and the slice's release closes the file once no one else holds
/// it. No descriptor is duplicated.
///
/// Thread-safety: immutable after init; released on whichever thread drops the last reference.
final class FetchedRegion: @unchecked Sendable {
    let region: FileRegion
    private let slice: FileSlice

    init(_ slice: FileSlice) {
        self.slice = slice
        let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: slice.fileDescriptor)
        region = FileRegion(fileHandle: handle, readerIndex: slice.position, endIndex: slice.position + slice.length)
    }

    deinit {
        // The descriptor belongs to the slice's SegmentFile: take it back from the handle, never close it here.
        _ = try? region.fileHandle.takeDescriptorOwnership()
    }

    /// The region as a record set that retains its owner.
    var recordSet: RecordSet {
        RecordSet(parts: [.fileRegion(region)], retaining: [self])
    }
}
