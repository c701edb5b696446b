import Foundation

extension UUID {
    /// Orders like PostgreSQL's `uuid` comparison: by bytes, most significant first (the same
    /// order as the canonical text, without formatting it).
    public static func bytewiseLess(_ lhs: UUID, _ rhs: UUID) -> Bool {
        withUnsafeBytes(of: lhs.uuid) { left in
            withUnsafeBytes(of: rhs.uuid) { right in memcmp(left.baseAddress!, right.baseAddress!, 16) < 0 }
        }
    }
}
