import Synchronization

/// A new request id: 32 lower-case hex digits, a random per-process half then a counter.
///
/// Hummingbird's own `RequestID` does not pad its random half, so one process start in sixteen
/// made 31-digit ids (a log test caught it under load); this keeps the documented width.
enum RequestIdentifier {
    private static let prefix = padded(UInt64.random(in: .min ... .max))
    private static let counter = Atomic<UInt64>(UInt64.random(in: .min ... .max))

    /// The next id of this process; unique among the 2⁶⁴ requests it can answer.
    static func next() -> String {
        prefix + padded(counter.wrappingAdd(1, ordering: .relaxed).oldValue)
    }

    /// `value` as exactly 16 hex digits.
    static func padded(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
