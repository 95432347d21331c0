// Saturating arithmetic for values read from disk or the network (timestamps, offsets), where an overflow must
// neither trap nor wrap into the opposite sign.

extension Int64 {
    /// `self - other`, clamped to `Int64.min ... Int64.max`.
    func saturatingSubtract(_ other: Int64) -> Int64 {
        let (difference, overflow) = subtractingReportingOverflow(other)
        if !overflow { return difference }
        return other < 0 ? .max : .min
    }

    /// `self + other`, clamped to `Int64.min ... Int64.max`.
    func saturatingAdd(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        if !overflow { return sum }
        return other > 0 ? .max : .min
    }
}
