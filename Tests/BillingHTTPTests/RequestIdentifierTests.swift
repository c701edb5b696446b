import Hummingbird
import Testing

@testable import BillingHTTP

@Suite struct RequestIdentifierTests {
    @Test func everyIDIs32HexDigitsWhateverItsValue() {
        #expect(RequestIdentifier.padded(0) == "0000000000000000")
        #expect(RequestIdentifier.padded(0xABC) == "0000000000000abc")
        #expect(RequestIdentifier.padded(.max) == "ffffffffffffffff")
        let ids = (0..<1000).map { _ in RequestIdentifier.next() }
        #expect(ids.allSatisfy { $0.count == 32 && $0.allSatisfy(\.isHexDigit) })
        #expect(Set(ids).count == ids.count)
    }

    @Test func aPlainCallerIDIsKeptAnythingElseIsReplaced() {
        #expect(RequestObservationMiddleware<BasicRequestContext>.requestID("req-1:a.b_c") == "req-1:a.b_c")
        #expect(RequestObservationMiddleware<BasicRequestContext>.requestID("two words").count == 32)
        #expect(RequestObservationMiddleware<BasicRequestContext>.requestID(String(repeating: "a", count: 129)).count == 32)
        #expect(RequestObservationMiddleware<BasicRequestContext>.requestID(nil).count == 32)
    }
}
