import Foundation

/// The configured secrets of every provider and environment.
///
/// `<PROVIDER>_WEBHOOK_SECRETS` (comma-separated, several during rotation) applies to every
/// environment; `<PROVIDER>_<ENVIRONMENT>_WEBHOOK_SECRETS` overrides it for one environment.
/// A provider and environment without secrets accepts nothing.
public struct WebhookSecrets: Sendable {
    private let secrets: [Provider: [ProviderEnvironment: [WebhookSecret]]]

    /// Reads the variables from `environment` (usually the process environment). Throws
    /// ``WebhookSecretError`` for a Flexprice or mintfax secret from which the Standard Webhooks
    /// key cannot be derived (the reference libraries refuse it too), rather than falling back to
    /// another key and refusing every correctly signed delivery.
    public init(environment: [String: String]) throws(WebhookSecretError) {
        var secrets: [Provider: [ProviderEnvironment: [WebhookSecret]]] = [:]
        var known: Set<String> = []
        for provider in Provider.allCases {
            known.insert("\(provider.environmentPrefix)_WEBHOOK_SECRETS")
            for mode in ProviderEnvironment.allCases { known.insert("\(provider.environmentPrefix)_\(mode.rawValue.uppercased())_WEBHOOK_SECRETS") }
        }
        // A misspelt variable (FLEXPRICE_WEBHOOK_SECRET, FLEXPRICE_SANDBOX_WEBHOOK_SECRETS) would leave
        // the provider without the secret the operator meant: stop instead of refusing every delivery.
        for name in environment.keys.sorted()
        where !known.contains(name) && name.contains("WEBHOOK_SECRET")
            && Provider.allCases.contains(where: { name.hasPrefix($0.environmentPrefix + "_") })
        {
            throw WebhookSecretError(
                variable: name,
                message: "not a variable billing-events reads; use <PROVIDER>_WEBHOOK_SECRETS or <PROVIDER>_<LIVE|TEST>_WEBHOOK_SECRETS")
        }
        for provider in Provider.allCases {
            let sharedName = "\(provider.environmentPrefix)_WEBHOOK_SECRETS"
            let shared = try Self.parse(environment[sharedName], variable: sharedName, provider: provider)
            for mode in ProviderEnvironment.allCases {
                let name = "\(provider.environmentPrefix)_\(mode.rawValue.uppercased())_WEBHOOK_SECRETS"
                let specific = try Self.parse(environment[name], variable: name, provider: provider)
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

    private static func parse(_ value: String?, variable: String, provider: Provider) throws(WebhookSecretError) -> [WebhookSecret] {
        let secrets = (value ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            .map(WebhookSecret.init)
        guard provider != .mintcash else { return secrets }
        for (index, secret) in secrets.enumerated() where secret.standardKey == nil {
            throw WebhookSecretError(
                variable: variable,
                message: "secret \(index + 1) (fingerprint \(secret.fingerprint)) is not a whsec_ secret: after the optional whsec_ prefix "
                    + "it must be base64 of the signing key, padded or not, as the Standard Webhooks and Svix libraries read it")
        }
        return secrets
    }
}
