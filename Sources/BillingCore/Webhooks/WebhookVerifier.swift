import Crypto
import Foundation

/// Verifies provider signatures over the raw request bytes, before anything is parsed.
///
/// - Standard Webhooks / Svix (Flexprice, mintfax): HMAC-SHA256 of `{id}.{timestamp}.{body}`,
///   base64, in space-separated `v1,<sig>` tokens; headers `svix-*` or `webhook-*`.
/// - mintfax legacy: `X-Mintfax-Signature`, hex HMAC-SHA256 of `{X-Mintfax-Timestamp}.{body}`.
/// - MintCash: `x-signature`, lowercase hex HMAC-SHA256 of the body; no timestamp.
/// Signatures are compared in constant time; timestamps must lie within `tolerance` of now.
public struct WebhookVerifier: Sendable {
    /// Largest accepted clock difference, both ways.
    public var tolerance: TimeInterval

    /// Creates a verifier; the default tolerance is five minutes.
    public init(tolerance: TimeInterval = 300) {
        self.tolerance = tolerance
    }

    /// Verifies a delivery. `headers` must have lower-cased names.
    public func verify(
        provider: Provider, headers: [String: String], body: [UInt8], secrets: [WebhookSecret], now: Date = Date()
    ) throws(WebhookRefusal) -> WebhookVerification {
        guard !secrets.isEmpty else {
            throw WebhookRefusal(.noSecret, "no signing secret is configured for \(provider.rawValue)")
        }
        switch provider {
        case .flexprice:
            return try verifyStandard(headers: headers, prefixes: ["svix", "webhook"], body: body, secrets: secrets, now: now)
        case .mintfax:
            if headers["x-mintfax-signature"] != nil, headers["webhook-signature"] == nil {
                return try verifyMintfaxLegacy(headers: headers, body: body, secrets: secrets, now: now)
            }
            return try verifyStandard(headers: headers, prefixes: ["webhook", "svix"], body: body, secrets: secrets, now: now)
        case .mintcash:
            return try verifyMintCash(headers: headers, body: body, secrets: secrets)
        }
    }

    private func verifyStandard(
        headers: [String: String], prefixes: [String], body: [UInt8], secrets: [WebhookSecret], now: Date
    ) throws(WebhookRefusal) -> WebhookVerification {
        guard let prefix = prefixes.first(where: { headers["\($0)-signature"] != nil }),
            let id = headers["\(prefix)-id"], let timestampText = headers["\(prefix)-timestamp"],
            let signatureHeader = headers["\(prefix)-signature"]
        else {
            throw WebhookRefusal(.missingHeaders, "expected \(prefixes[0])-id, \(prefixes[0])-timestamp and \(prefixes[0])-signature headers")
        }
        guard !id.isEmpty, id.utf8.count <= 256 else { throw WebhookRefusal(.malformedHeaders, "\(prefix)-id is empty or too long") }
        let timestamp = try checkTimestamp(timestampText, header: "\(prefix)-timestamp", now: now)
        // No cap on the tokens, like the reference libraries: the 80 KiB header limit bounds them,
        // each is decoded once, and the HMAC is computed once per secret, not per token.
        let tokens = signatureHeader.split(separator: " ", omittingEmptySubsequences: true)
        let candidates: [[UInt8]] = tokens.compactMap { token in
            guard token.hasPrefix("v1,"), let bytes = Data(base64Encoded: String(token.dropFirst(3))), bytes.count == 32 else {
                return nil
            }
            return Array(bytes)
        }
        guard !candidates.isEmpty else {
            throw WebhookRefusal(.malformedHeaders, "\(prefix)-signature has no v1,<base64> signature")
        }
        let signed = Array("\(id).\(timestampText).".utf8) + body
        for secret in secrets {
            guard let key = secret.standardKey else { continue }
            let expected = Self.hmac(signed, key: key)
            if candidates.contains(where: { Self.constantTimeEquals($0, expected) }) {
                return WebhookVerification(
                    secretFingerprint: secret.fingerprint, deliveryID: id, timestamp: timestamp,
                    signatureHeaders: ["\(prefix)-id": id, "\(prefix)-timestamp": timestampText, "\(prefix)-signature": signatureHeader])
            }
        }
        throw WebhookRefusal(.badSignature, "no signature matches a configured secret")
    }

    private func verifyMintfaxLegacy(
        headers: [String: String], body: [UInt8], secrets: [WebhookSecret], now: Date
    ) throws(WebhookRefusal) -> WebhookVerification {
        guard let signature = headers["x-mintfax-signature"], let timestampText = headers["x-mintfax-timestamp"] else {
            throw WebhookRefusal(.missingHeaders, "expected X-Mintfax-Signature and X-Mintfax-Timestamp headers")
        }
        let timestamp = try checkTimestamp(timestampText, header: "x-mintfax-timestamp", now: now)
        guard let candidate = Self.hexBytes(signature) else {
            throw WebhookRefusal(.malformedHeaders, "X-Mintfax-Signature is not a hex HMAC-SHA256")
        }
        let signed = Array("\(timestampText).".utf8) + body
        for secret in secrets where Self.constantTimeEquals(candidate, Self.hmac(signed, key: secret.rawKey)) {
            return WebhookVerification(
                secretFingerprint: secret.fingerprint, deliveryID: nil, timestamp: timestamp,
                signatureHeaders: ["x-mintfax-signature": signature, "x-mintfax-timestamp": timestampText])
        }
        throw WebhookRefusal(.badSignature, "the signature matches no configured secret")
    }

    private func verifyMintCash(headers: [String: String], body: [UInt8], secrets: [WebhookSecret]) throws(WebhookRefusal) -> WebhookVerification {
        guard let signature = headers["x-signature"] else {
            throw WebhookRefusal(.missingHeaders, "expected an x-signature header")
        }
        guard let candidate = Self.hexBytes(signature) else {
            throw WebhookRefusal(.malformedHeaders, "x-signature is not a hex HMAC-SHA256")
        }
        for secret in secrets where Self.constantTimeEquals(candidate, Self.hmac(body, key: secret.rawKey)) {
            return WebhookVerification(
                secretFingerprint: secret.fingerprint, deliveryID: nil, timestamp: nil, signatureHeaders: ["x-signature": signature])
        }
        throw WebhookRefusal(.badSignature, "the signature matches no configured secret")
    }

    /// Unix seconds in ASCII decimal, within the tolerance of `now`.
    private func checkTimestamp(_ text: String, header: String, now: Date) throws(WebhookRefusal) -> Date {
        guard (1...12).contains(text.utf8.count), text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let seconds = Int64(text) else {
            throw WebhookRefusal(.malformedHeaders, "\(header) is not unix seconds")
        }
        let timestamp = Date(timeIntervalSince1970: TimeInterval(seconds))
        let skew = timestamp.timeIntervalSince(now)
        if skew < -tolerance { throw WebhookRefusal(.staleTimestamp, "\(header) is more than \(Int(tolerance)) s old") }
        if skew > tolerance { throw WebhookRefusal(.futureTimestamp, "\(header) is more than \(Int(tolerance)) s in the future") }
        return timestamp
    }

    static func hmac(_ message: [UInt8], key: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
    }

    /// Equality whose running time depends only on the lengths, not on where the bytes differ.
    package static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    /// 64 hex digits (either case) as 32 bytes.
    static func hexBytes(_ text: String) -> [UInt8]? {
        text.utf8.count == 64 ? Hex.decode(Array(text.utf8)) : nil
    }
}
