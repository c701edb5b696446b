/// A configured secret that cannot be used: `serve` stops at start-up and names the variable.
public struct WebhookSecretError: Error, Sendable, CustomStringConvertible {
    /// The environment variable that holds it.
    public var variable: String
    /// What is wrong (never the secret itself).
    public var message: String
    /// `VARIABLE: message`.
    public var description: String { "\(variable): \(message)" }
}
