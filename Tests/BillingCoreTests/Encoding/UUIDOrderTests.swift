import BillingCore
import Foundation
import Testing

@Suite struct UUIDOrderTests {
    @Test func bytewiseOrderMatchesTheCanonicalText() {
        let ids = (0..<500).map { _ in UUID() } + [UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF))]
        for (left, right) in zip(ids, ids.shuffled()) {
            #expect(UUID.bytewiseLess(left, right) == (left.uuidString < right.uuidString))
        }
        #expect(!UUID.bytewiseLess(ids[0], ids[0]))
    }
}
