import Crypto
import Foundation

/// One signing secret of a provider, with the HMAC keys derived from it.
///
/// The secret itself is never logged or stored; `fingerprint` (the first 12 hex digits of its
/// SHA-256) records which secret verified a delivery.
public struct WebhookSecret: Sendable, Equatable {
    /// HMAC key for Standard Webhooks / Svix signatures, derived exactly as the reference libraries
    /// (PyPI `standardwebhooks` and `svix`) derive it; nil when they would refuse the secret.
    public let standardKey: [UInt8]?
    /// HMAC key for hex-signature schemes (MintCash, mintfax legacy `X-Mintfax-Signature`): the
    /// whole secret's UTF-8 bytes, `whsec_` prefix included, as mintfax's legacy signing code uses it.
    public let rawKey: [UInt8]
    /// Identifies the secret without revealing it.
    public let fingerprint: String

    /// Derives the keys from a configured secret.
    public init(_ secret: String) {
        rawKey = Array(secret.utf8)
        standardKey = Self.standardKey(secret)
        fingerprint = Hex.encode(SHA256.hash(data: rawKey).prefix(6))
    }

    /// The reference libraries' derivation: drop an optional `whsec_`, then base64-decode the rest
    /// the way Python's `base64.b64decode(rest + "==")` does. Characters outside the standard
    /// alphabet are skipped (so `whsec_test_3JzE…`, a documented sandbox shape, is the base64 of
    /// `test3JzE…`), padding may be absent, and a complete pad ends the input. Nil for what they
    /// refuse: nothing left, or a dangling sixth of a byte (data characters ≡ 1 mod 4).
    public static func standardKey(_ secret: String) -> [UInt8]? {
        let text = secret.hasPrefix("whsec_") ? secret.utf8.dropFirst(6) : secret.utf8[...]
        var key: [UInt8] = []
        var quad = 0
        var pads = 0
        var left: UInt8 = 0
        scan: for byte in text + Array("==".utf8) {
            if byte == UInt8(ascii: "=") {
                pads += 1
                if quad >= 2, quad + pads >= 4 { break scan }
                continue
            }
            guard let value = Base64Alphabet.standard.sextet(byte) else { continue }
            switch quad {
            case 0: left = value
            case 1:
                key.append(left << 2 | value >> 4)
                left = value & 0x0F
            case 2:
                key.append(left << 4 | value >> 2)
                left = value & 0x03
            default: key.append(left << 6 | value)
            }
            quad = (quad + 1) % 4
        }
        guard quad != 1, !key.isEmpty else { return nil }
        return key
    }
}
