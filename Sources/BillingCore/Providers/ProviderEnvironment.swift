/// The provider account mode an event belongs to.
public enum ProviderEnvironment: String, Sendable, CaseIterable, Codable {
    case live
    case test
}
