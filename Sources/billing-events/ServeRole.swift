import ArgumentParser
import Foundation

/// A part of `serve`. Every role also answers `/livez`, `/readyz` and `/metrics`.
enum ServeRole: String, CaseIterable, Sendable {
    /// `POST /webhooks/…`.
    case receiver
    /// The projection runners (one active per projection across all instances).
    case projector
    /// The query API under `/v1`.
    case api

    /// Parses `receiver,projector,api` (any non-empty subset, in any order).
    static func parse(_ text: String) throws -> Set<ServeRole> {
        var roles = Set<ServeRole>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let name = part.trimmingCharacters(in: .whitespaces)
            guard let role = ServeRole(rawValue: name) else {
                throw ValidationError("unknown role \"\(name)\"; roles are \(allCases.map(\.rawValue).joined(separator: ", "))")
            }
            roles.insert(role)
        }
        return roles
    }
}
