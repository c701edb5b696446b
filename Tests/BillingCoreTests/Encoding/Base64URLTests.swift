import BillingCore
import Foundation
import Testing

@Suite struct Base64URLTests {
    @Test func encodesLikeFoundationWithTheURLAlphabetAndNoPadding() throws {
        var random = SystemRandomNumberGenerator()
        for length in 0..<70 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            let expected = Data(bytes).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            #expect(Base64URL.encode(bytes) == expected)
            #expect(Base64URL.decode(expected) == bytes)
        }
    }

    @Test func refusesWhatNoEncoderProduces() {
        #expect(Base64URL.decode("ab+c") == nil)
        #expect(Base64URL.decode("ab/c") == nil)
        #expect(Base64URL.decode("YQ==") == nil)
        #expect(Base64URL.decode("abcde") == nil)  // one character left over
        #expect(Base64URL.decode("YR") == nil)  // stray bits after the last byte
        #expect(Base64URL.decode("YWJ") == nil)
        #expect(Base64URL.decode("YQ") == [0x61])
        #expect(Base64URL.decode("") == [])
    }
}
