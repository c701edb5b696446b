import Foundation

/// A part of `serve`. Every role also answers `/livez`, `/readyz` and `/metrics`.
public enum ServeRole: String, CaseIterable, Sendable {
    /// `POST /webhooks/…`.
    case receiver
    /// The projection runners (one active per projection across all instances).
    case projector
    /// The query API under `/v1`.
    case api

    /// Parses `receiver,projector,api` (any non-empty subset, in any order); the failure names
    /// the first part that is not a role.
    public static func parse(_ text: String) -> Result<Set<ServeRole>, UnknownServeRole> {
        var roles = Set<ServeRole>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let name = part.trimmingCharacters(in: .whitespaces)
            guard let role = ServeRole(rawValue: name) else { return .failure(UnknownServeRole(name: name)) }
            roles.insert(role)
        }
        return .success(roles)
    }
}

/// A role name `serve` does not know.
public struct UnknownServeRole: Error, Sendable, CustomStringConvertible {
    /// The name as given.
    public var name: String
    /// `unknown role "x"; roles are receiver, projector, api`.
    public var description: String {
        "unknown role \"\(name)\"; roles are \(ServeRole.allCases.map(\.rawValue).joined(separator: ", "))"
    }
}
