import Foundation
import Testing

@testable import Postgres

@Suite struct PostgresQueryTests {
    @Test func interpolatedValuesBecomeNumberedParameters() {
        let name = "Robert'); DROP TABLE students;--"
        let amount = Decimal(string: "49.99")!
        let query: PostgresQuery = "SELECT * FROM t WHERE name = \(name) AND amount > \(amount) AND n = \(42)"
        #expect(query.sql == "SELECT * FROM t WHERE name = $1 AND amount > $2 AND n = $3")
        #expect(query.binds.count == 3)
        #expect(query.binds[0].bytes == Array(name.utf8))
        #expect(query.binds[1].type == .numeric)
        #expect(query.binds[1].bytes == Array("49.99".utf8))
        #expect(query.binds[2].type == .int8)
    }

    @Test func nilBindsNullWithTheWrappedType() {
        let missing: UUID? = nil
        let query: PostgresQuery = "SELECT \(missing)"
        #expect(query.sql == "SELECT $1")
        #expect(query.binds[0].bytes == nil)
        #expect(query.binds[0].type == .uuid)
    }

    @Test func identifiersAreQuotedAndRawFragmentsAreExplicit() {
        let table = "we\"ird"
        let query: PostgresQuery = "SELECT * FROM \(identifier: table) ORDER BY \(unescaped: "id DESC")"
        #expect(query.sql == "SELECT * FROM \"we\"\"ird\" ORDER BY id DESC")
        #expect(query.binds.isEmpty)
    }

    @Test func literalsAreQuotedSoTheyCannotEndTheString() {
        let query: PostgresQuery = "SELECT \(literal: "it's") LIMIT \(literal: 26)"
        #expect(query.sql == "SELECT 'it''s' LIMIT 26")
        #expect(query.binds.isEmpty)
    }

    @Test func appendedQueriesAreRenumbered() {
        var query: PostgresQuery = "SELECT * FROM t WHERE a = \(1)"
        query.append(" AND b = \(2) AND c = '$1' AND d = \(3)")
        #expect(query.sql == "SELECT * FROM t WHERE a = $1 AND b = $2 AND c = '$1' AND d = $3")
        #expect(query.binds.map { $0.bytes.map { String(decoding: $0, as: UTF8.self) } } == ["1", "2", "3"])
        let filter: PostgresQuery = "x = \(5)"
        let outer: PostgresQuery = "SELECT \(7) WHERE \(filter)"
        #expect(outer.sql == "SELECT $1 WHERE x = $2")
    }

    @Test func renumberingShiftsEveryPlaceholderAndNothingQuoted() {
        let sql = #"SELECT $1, $12::int, 'é $3', "col$4", $$ $5 x"#
        #expect(PostgresQuery.renumber(sql, offset: 9) == #"SELECT $10, $21::int, 'é $3', "col$4", $$ $14 x"#)
        #expect(PostgresQuery.renumber(sql, offset: 0) == sql)
    }

    @Test func bytesAreBoundInBinaryFormat() {
        let data = Data([0, 1, 255])
        let query: PostgresQuery = "SELECT \(data)"
        #expect(query.binds[0].format == .binary)
        #expect(query.binds[0].bytes == [0, 1, 255])
    }

    @Test func arraysAreQuotedLiterals() {
        let values: [String?] = ["a,b", "quo\"te", "back\\slash", nil, "ünï"]
        let query: PostgresQuery = "SELECT \(values)"
        #expect(query.binds[0].type == .textArray)
        #expect(String(decoding: query.binds[0].bytes!, as: UTF8.self) == #"{"a,b","quo\"te","back\\slash",NULL,"ünï"}"#)
        let parsed = try? PostgresArrayLiteral.parse(#"{"a,b","quo\"te","back\\slash",NULL,ünï,"NULL"}"#)
        #expect(parsed == ["a,b", "quo\"te", "back\\slash", nil, "ünï", "NULL"])
    }

    @Test func malformedArrayLiteralsAreRejected() {
        #expect(throws: PostgresDecodingFailure.self) { try PostgresArrayLiteral.parse("a,b") }
        #expect(throws: PostgresDecodingFailure.self) { try PostgresArrayLiteral.parse("{{1,2},{3,4}}") }
    }

    @Test func errorDescriptionIsRedacted() {
        let error = PostgresError(
            code: .uniqueViolation, message: "duplicate key", detail: "Key (email)=(secret@example.com) already exists.",
            constraint: "users_email_key")
        #expect(!error.description.contains("secret"))
        #expect(error.description.contains("23505"))
        #expect(error.debugDescription.contains("secret@example.com"))
    }
}
