import Foundation
import Postgres
import Testing

@Suite struct UUIDTextTests {
    @Test func formatsAndParsesLikePostgres() {
        for _ in 0..<200 {
            let id = UUID()
            #expect(id.postgresText == id.uuidString.lowercased())
            #expect(UUID(postgresText: id.postgresText) == id)
            #expect(UUID(postgresText: id.uuidString) == id)
        }
    }

    @Test(arguments: [
        "", "not a uuid", "0123456789abcdef0123456789abcdef", "01234567-89ab-cdef-0123-456789abcdeg",
        "01234567-89ab-cdef-0123-456789abcdef0", "01234567-89abc-def-0123-456789abcdef", "{01234567-89ab-cdef-0123-456789abcd}",
        "01234567-89ab-cdef-0123-456789abcdé",
    ])
    func refusesOtherText(text: String) {
        #expect(UUID(postgresText: text) == nil)
    }
}
