extension Int32 {
    /// The generation or epoch after this one. Kafka's Java adds one and wraps to Int32.min; here the value after
    /// Int32.max (and after any negative value, which only a damaged or forged `__consumer_offsets` record can
    /// hold) is 1, because 0 and negative epochs mean "joining", "leaving" or "no generation" on the wire.
    /// Never traps.
    var nextGroupEpoch: Int32 {
        self >= 0 && self < .max ? self + 1 : 1
    }
}

extension Int64 {
    /// `self + other`, saturated at the bounds instead of trapping (timestamps and deadlines from requests and
    /// records).
    func saturatingAdd(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }

    /// `self - other`, saturated at the bounds instead of trapping.
    func saturatingSubtract(_ other: Int64) -> Int64 {
        let (difference, overflow) = subtractingReportingOverflow(other)
        return overflow ? (other < 0 ? .max : .min) : difference
    }
}

extension String {
    /// The longest prefix of whole Unicode scalars that is at most `maxBytes` UTF-8 bytes long.
    func prefix(utf8Bytes maxBytes: Int) -> String {
        guard utf8.count > maxBytes else { return self }
        var bytes = 0
        var end = unicodeScalars.startIndex
        for index in unicodeScalars.indices {
            let width = UTF8.width(unicodeScalars[index])
            guard bytes + width <= maxBytes else { break }
            bytes += width
            end = unicodeScalars.index(after: index)
        }
        return String(unicodeScalars[..<end])
    }
}
