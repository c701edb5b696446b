import Crypto
import Foundation

/// One signing secret of a provider, with the HMAC key derived from it.
///
/// The secret itself is never logged or stored; `fingerprint` (the first 12 hex digits of its
/// SHA-256) records which secret verified a delivery.
public struct WebhookSecret: Sendable, Equatable {
    /// HMAC key for Standard Webhooks / Svix signatures: the base64 after `whsec_`, or the secret's
    /// UTF-8 bytes when that part is not valid base64 (mintfax sandbox secrets look like that).
    public let standardKey: [UInt8]
    /// HMAC key for hex-signature schemes (MintCash, mintfax legacy): the secret's UTF-8 bytes.
    public let rawKey: [UInt8]
    /// Identifies the secret without revealing it.
    public let fingerprint: String

    /// Derives the keys from a configured secret.
    public init(_ secret: String) {
        rawKey = Array(secret.utf8)
        if secret.hasPrefix("whsec_"), let decoded = Data(base64Encoded: String(secret.dropFirst(6))), !decoded.isEmpty {
            standardKey = Array(decoded)
        } else {
            standardKey = rawKey
        }
        fingerprint = Hex.encode(SHA256.hash(data: rawKey).prefix(6))
    }
}

/// The configured secrets of every provider and environment.
///
/// `<PROVIDER>_WEBHOOK_SECRETS` (comma-separated, several during rotation) applies to every
/// environment; `<PROVIDER>_<ENVIRONMENT>_WEBHOOK_SECRETS` overrides it for one environment.
/// A provider and environment without secrets accepts nothing.
public struct WebhookSecrets: Sendable {
    private let secrets: [Provider: [ProviderEnvironment: [WebhookSecret]]]

    /// Reads the variables from `environment` (usually the process environment).
    public init(environment: [String: String]) {
        var secrets: [Provider: [ProviderEnvironment: [WebhookSecret]]] = [:]
        for provider in Provider.allCases {
            let shared = Self.parse(environment["\(provider.environmentPrefix)_WEBHOOK_SECRETS"])
            for mode in ProviderEnvironment.allCases {
                let specific = Self.parse(environment["\(provider.environmentPrefix)_\(mode.rawValue.uppercased())_WEBHOOK_SECRETS"])
                let chosen = specific.isEmpty ? shared : specific
                if !chosen.isEmpty { secrets[provider, default: [:]][mode] = chosen }
            }
        }
        self.secrets = secrets
    }

    /// The secrets that may sign deliveries of `provider` in `environment`; empty means refuse.
    public func secrets(for provider: Provider, environment: ProviderEnvironment) -> [WebhookSecret] {
        secrets[provider]?[environment] ?? []
    }

    /// Providers with no secret in any environment (named at start-up, since they accept nothing).
    public var unconfiguredProviders: [Provider] {
        Provider.allCases.filter { secrets[$0]?.isEmpty ?? true }
    }

    private static func parse(_ value: String?) -> [WebhookSecret] {
        (value ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            .map(WebhookSecret.init)
    }
}
