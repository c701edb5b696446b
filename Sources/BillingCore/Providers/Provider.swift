/// A billing provider whose webhooks the service accepts.
public enum Provider: String, Sendable, CaseIterable, Codable {
    case flexprice
    case mintcash
    case mintfax

    /// The prefix of this provider's configuration variables (`FLEXPRICE_WEBHOOK_SECRETS`).
    public var environmentPrefix: String { rawValue.uppercased() }
}
