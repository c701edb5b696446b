import BillingCore
import Foundation
import Testing

@Suite struct QueryParameterTests {
    let signer = PageCursorSigner(key: Array(repeating: 7, count: 32))
    let filters = [ListFilter.provider, ListFilter("email", .caseInsensitiveText), ListFilter("created_gte", .time), .customerID]

    @Test func queryStringsDecodeExactly() throws {
        let pairs = try QueryString.parse("a=1&b=x+y&c=%E2%82%AC&&d&e=&f=a%3Db")
        #expect(pairs.map(\.name) == ["a", "b", "c", "d", "e", "f"])
        #expect(pairs.map(\.value) == ["1", "x y", "€", "", "", "a=b"])
        #expect(try QueryString.parse(nil).isEmpty)
        for bad in ["a=%", "a=%4", "a=%zz", "a=%FF", "%ZZ=1"] {
            #expect(throws: QueryParameterError.self) { try QueryString.parse(bad) }
        }
    }

    @Test func listRequestsReadAndNormalizeTheirParameters() throws {
        let request = try ListRequest(
            [("email", "Ada@Example.COM"), ("created_gte", "2026-03-31"), ("limit", "37"), ("order", "asc"), ("min_position", "12")],
            resource: "customers", filters: filters, cursors: signer)
        #expect(request.filters["email"] == .text("ada@example.com"))
        #expect(request.filters["created_gte"] == .time(EventTimestamp.microseconds(iso8601: "2026-03-31T00:00:00Z")!))
        #expect(request.limit == 37 && request.ascending && request.minimumPosition == 12 && request.after == nil)
        let defaults = try ListRequest([], resource: "customers", filters: filters, cursors: signer)
        #expect(defaults.limit == 20 && !defaults.ascending)
    }

    @Test func cursorsRoundTripOnlyForTheirBinding() throws {
        let request = try ListRequest([("provider", "mintcash"), ("email", "a@b.c")], resource: "customers", filters: filters, cursors: signer)
        let key = PageKey(time: 1_774_915_200_123_456, tiebreak: "3f2c…")
        let cursor = signer.cursor(after: key, binding: request.binding(resource: "customers"))
        // Same filters in another order and another case of the e-mail: same binding.
        let next = try ListRequest(
            [("email", "A@B.C"), ("cursor", cursor), ("provider", "mintcash")], resource: "customers", filters: filters, cursors: signer)
        #expect(next.after == key)
        let other = PageCursorSigner(key: Array(repeating: 8, count: 32))
        #expect(throws: QueryParameterError(.invalidCursor, parameter: "cursor", "not a cursor this service issued, or altered")) {
            try ListRequest(
                [("provider", "mintcash"), ("email", "a@b.c"), ("cursor", cursor)], resource: "customers", filters: filters, cursors: other)
        }
        for (items, resource) in [
            ([("provider", "flexprice"), ("email", "a@b.c")], "customers"), ([("email", "a@b.c")], "customers"),
            ([("provider", "mintcash"), ("email", "a@b.c"), ("order", "asc")], "customers"),
            ([("provider", "mintcash"), ("email", "a@b.c")], "payments"),
        ] {
            let error = #expect(throws: QueryParameterError.self) {
                try ListRequest(items + [("cursor", cursor)], resource: resource, filters: filters, cursors: signer)
            }
            #expect(error?.code == .cursorMismatch)
        }
    }

    @Test(arguments: [
        ("limit", "0"), ("limit", "101"), ("limit", "1.5"), ("order", "DESC"), ("provider", "Stripe"), ("customer_id", "not-a-uuid"),
        ("created_gte", "2026-02-30"), ("created_gte", "31/03/2026"), ("email", ""), ("email", String(repeating: "x", count: 501)),
        ("min_position", "-3"), ("cursor", "x.y"), ("colour", "red"),
    ])
    func badValuesNameTheirParameter(name: String, value: String) {
        let error = #expect(throws: QueryParameterError.self) {
            try ListRequest([(name, value)], resource: "customers", filters: filters, cursors: signer)
        }
        #expect(error?.parameter == name)
    }

    @Test func repeatedParametersAreRefused() {
        let error = #expect(throws: QueryParameterError.self) {
            try ListRequest([("limit", "5"), ("limit", "5")], resource: "customers", filters: filters, cursors: signer)
        }
        #expect(error?.parameter == "limit")
    }
}
