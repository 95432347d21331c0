// Big-endian loads and stores on raw buffers, without alignment requirements. Callers check bounds first.

extension UnsafeRawBufferPointer {
    @inline(__always)
    func int64BE(at offset: Int) -> Int64 {
        Int64(bigEndian: loadUnaligned(fromByteOffset: offset, as: Int64.self))
    }

    @inline(__always)
    func int32BE(at offset: Int) -> Int32 {
        Int32(bigEndian: loadUnaligned(fromByteOffset: offset, as: Int32.self))
    }

    @inline(__always)
    func uint32BE(at offset: Int) -> UInt32 {
        UInt32(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    @inline(__always)
    func int16BE(at offset: Int) -> Int16 {
        Int16(bigEndian: loadUnaligned(fromByteOffset: offset, as: Int16.self))
    }
}

extension UnsafeMutableRawBufferPointer {
    @inline(__always)
    func storeInt64BE(_ value: Int64, at offset: Int) {
        storeBytes(of: value.bigEndian, toByteOffset: offset, as: Int64.self)
    }

    @inline(__always)
    func storeInt32BE(_ value: Int32, at offset: Int) {
        storeBytes(of: value.bigEndian, toByteOffset: offset, as: Int32.self)
    }

    @inline(__always)
    func storeUInt32BE(_ value: UInt32, at offset: Int) {
        storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt32.self)
    }

    @inline(__always)
    func storeInt16BE(_ value: Int16, at offset: Int) {
        storeBytes(of: value.bigEndian, toByteOffset: offset, as: Int16.self)
    }
}
