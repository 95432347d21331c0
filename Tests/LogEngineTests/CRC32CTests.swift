import Testing
@testable import LogEngine

struct CRC32CTests {
    @Test func checksum_ofCheckString() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
    }

    @Test func checksum_ofEmptyInput_isZero() {
        #expect(CRC32C.checksum([UInt8]()) == 0)
    }

    @Test func checksum_ofKnownVectors() {
        // RFC 3720 (iSCSI) appendix B.4 test vectors.
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
        #expect(CRC32C.checksum((0..<32).map { UInt8(31 - $0) }) == 0x113F_DB5C)
    }

    @Test func checksum_continuingEqualsWhole() {
        let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) }
        let whole = CRC32C.checksum(bytes)
        for split in [0, 1, 7, 8, 255, 769, 24_577, 99_999] {
            let first = CRC32C.checksum(Array(bytes[..<split]))
            #expect(CRC32C.checksum(Array(bytes[split...]), continuing: first) == whole)
        }
    }

    @Test func hardwareAndSoftware_agreeOnAllLengthsAndAlignments() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let bytes = (0..<70_000).map { _ -> UInt8 in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
        bytes.withUnsafeBytes { all in
            for start in 0..<9 {
                for length in [0, 1, 3, 8, 15, 64, 767, 768, 769, 1000, 24_575, 24_576, 24_577, 60_000] {
                    let slice = UnsafeRawBufferPointer(rebasing: all[start..<(start + length)])
                    #expect(CRC32C.checksum(slice) == CRC32C.softwareChecksum(slice))
                }
            }
        }
    }

    @Test func hardwarePath_isUsedOnThisMachine() {
        #if arch(x86_64)
        #expect(CRC32C.isHardwareAccelerated)
        #endif
    }
}
