import Foundation
import Testing
@testable import LogEngine

/// Segment descriptors: opened on use, closed when idle, kept open by the slices being sent.
struct SegmentDescriptorTests {
    @Test func idleSegments_releaseTheirDescriptors_andReopenOnUse() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(directory: directory.path, config: smallConfig())
        try log.append(Batches.buffer(count: 3))
        try log.roll()
        try log.append(Batches.buffer(count: 3))
        #expect(log.openDescriptorCount == 2)
        // The first call only marks the descriptors unused; the second closes those still unused.
        #expect(log.releaseIdleDescriptors() == 0)
        #expect(log.releaseIdleDescriptors() == 2)
        #expect(log.openDescriptorCount == 0)
        // Reads and appends reopen what they need.
        let slice = try #require(try log.read(from: 0, maxBytes: 1 << 20))
        #expect(try slice.copyBytes().count == slice.length)
        try log.append(Batches.buffer(count: 2))
        #expect(log.openDescriptorCount == 2)
        #expect(log.logEndOffset == 8)
    }

    @Test func aSlice_keepsItsDescriptorOpen_afterTheSegmentReleasesIt() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(directory: directory.path, config: smallConfig())
        try log.append(Batches.buffer(count: 3))
        var slice: FileSlice? = try log.read(from: 0, maxBytes: 1 << 20)
        let descriptor = try #require(slice?.fileDescriptor)
        weak var file = slice?.file
        log.releaseIdleDescriptors()
        log.releaseIdleDescriptors()
        #expect(log.openDescriptorCount == 0)
        // Still open: the slice holds it, and pread through it sees the batches.
        var first = [UInt8](repeating: 0, count: 8)
        #expect(pread(descriptor, &first, 8, 0) == 8)
        #expect(file != nil)
        // The slice was the last holder: letting it go closes the file.
        slice = nil
        #expect(file == nil)
    }
}
