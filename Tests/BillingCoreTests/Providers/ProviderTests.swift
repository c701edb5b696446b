import BillingCore
import Testing

@Suite struct ProviderTests {
    @Test func namesMatchTheRoutesAndVariables() {
        #expect(Provider(rawValue: "flexprice") == .flexprice)
        #expect(Provider(rawValue: "FlexPrice") == nil)
        #expect(Provider.mintfax.environmentPrefix == "MINTFAX")
        #expect(ProviderEnvironment.allCases.map(\.rawValue) == ["live", "test"])
    }
}
