import CCRC32C
import NIOCore

/// CRC-32C (Castagnoli), the checksum of Kafka record batches v2.
///
/// Backed by the `CCRC32C` C target: SSE4.2 `crc32` instructions on three interleaved streams when the CPU
/// has them, slicing-by-8 tables otherwise. All functions are thread-safe and allocation-free.
public enum CRC32C {
    /// Whether the hardware (SSE4.2) path is used on this machine.
    public static var isHardwareAccelerated: Bool { portask_crc32c_hardware_available() != 0 }

    /// The checksum of `bytes`, continuing from `crc` (0 for a fresh checksum).
    @inlinable
    public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress else { return crc }
        return portask_crc32c(crc, base, bytes.count)
    }

    /// The checksum of a byte array.
    @inlinable
    public static func checksum(_ bytes: [UInt8], continuing crc: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0, continuing: crc) }
    }

    /// The checksum of the readable bytes of `buffer`.
    @inlinable
    public static func checksum(_ buffer: ByteBuffer, continuing crc: UInt32 = 0) -> UInt32 {
        buffer.withUnsafeReadableBytes { checksum($0, continuing: crc) }
    }

    /// The portable slicing-by-8 path, regardless of the CPU (for tests and benchmarks).
    public static func softwareChecksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress else { return crc }
        return portask_crc32c_software(crc, base, bytes.count)
    }
}
