import Crypto
import Foundation

/// Signs test deliveries the way each provider does, independently of the verifier under test.
public enum WebhookSigner {
    /// Svix / Standard Webhooks: `v1,` + base64 HMAC-SHA256 of `{id}.{timestamp}.{body}` keyed with
    /// the base64 part after `whsec_`.
    public static func standard(secret: String, id: String, timestamp: Int, body: [UInt8]) -> String {
        let key = Data(base64Encoded: String(secret.dropFirst("whsec_".count))) ?? Data(secret.utf8)
        let mac = HMAC<SHA256>.authenticationCode(for: Array("\(id).\(timestamp).".utf8) + body, using: SymmetricKey(data: key))
        return "v1," + Data(mac).base64EncodedString()
    }

    /// Lower-case hex HMAC-SHA256 of `message` keyed with the secret's UTF-8 bytes (MintCash, mintfax legacy).
    public static func hex(secret: String, message: [UInt8]) -> String {
        HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Data(secret.utf8)))
            .map { String(format: "%02x", $0) }.joined()
    }

    /// Headers of a signed delivery for `provider` (`flexprice`, `mintfax`, `mintcash`).
    public static func headers(
        provider: String, secret: String, body: [UInt8], id: String = "msg_\(UUID().uuidString)",
        timestamp: Int = Int(Date().timeIntervalSince1970)
    ) -> [String: String] {
        switch provider {
        case "flexprice":
            return [
                "svix-id": id, "svix-timestamp": "\(timestamp)", "svix-signature": standard(secret: secret, id: id, timestamp: timestamp, body: body),
            ]
        case "mintfax":
            return [
                "webhook-id": id, "webhook-timestamp": "\(timestamp)",
                "webhook-signature": standard(secret: secret, id: id, timestamp: timestamp, body: body),
            ]
        default:
            return ["x-signature": hex(secret: secret, message: body)]
        }
    }
}
