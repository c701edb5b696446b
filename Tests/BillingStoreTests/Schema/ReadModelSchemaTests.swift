import BillingCore
import Postgres
import TestSupport
import Testing

@testable import BillingStore

/// The Swift description of every read-model table (``ReadModelTable/columns``, the registers)
/// is the one the migrations create: a column added, dropped or retyped on one side only fails here.
@Suite struct ReadModelSchemaTests {
    /// `name type` of every column of `billing.<table>`, from the migrated database.
    private func migratedColumns(_ table: String, in pool: PostgresPool) async throws -> Set<String> {
        let rows = try await pool.query(
            """
            SELECT column_name::text, udt_name::text
            FROM information_schema.columns WHERE table_schema = 'billing' AND table_name = \(table)
            """)
        return Set(try rows.decode((String, String).self).map { "\($0.0) \(Self.typeName($0.1))" })
    }

    /// `information_schema`'s `udt_name` as the registers spell it.
    private static func typeName(_ udt: String) -> String {
        switch udt {
        case "int4": "integer"
        case "bool": "boolean"
        default: udt
        }
    }

    private func described(_ columns: [ReadModelRegister.Column]) -> Set<String> {
        Set(columns.map { "\($0.name) \($0.type.rawValue)" })
    }

    @Test(arguments: ReadModelTable.allCases)
    func everyTableHasExactlyTheColumnsItsRegistersDescribe(table: ReadModelTable) async throws {
        try await withMigratedPool { pool in
            let migrated = try await migratedColumns(table.rawValue, in: pool)
            let swift = described(table.columns)
            #expect(table.columns.count == swift.count, "a column is described twice")
            #expect(migrated.subtracting(swift).sorted() == [], "in the migrations, not in ReadModelRegister/ReadModelTable")
            #expect(swift.subtracting(migrated).sorted() == [], "in ReadModelRegister/ReadModelTable, not in the migrations")
            if let versionTable = table.versionTable {
                let versions = try await migratedColumns(versionTable, in: pool)
                let swiftVersions = described(table.versionTableColumns)
                #expect(versions.subtracting(swiftVersions).sorted() == [], "in \(versionTable), not described")
                #expect(swiftVersions.subtracting(versions).sorted() == [], "described, not in \(versionTable)")
            }
        }
    }

    /// The API's lists show or name as hidden every column of their table: building them checks it
    /// (a column added to a register and forgotten by the API stops the lists from being built).
    @Test func theAPIShowsOrHidesEveryReadModelColumn() {
        for resource in [ListResource.customers, .subscriptions, .payments, .wallets, .walletTransactions, .customerDetail] {
            #expect(resource.json.sql.contains("json_build_object"), "\(resource.name)")
        }
        #expect(ListResource.columnDrift(.payments, shown: ["id"], hidden: [])?.contains("neither shown nor hidden") == true)
        #expect(ListResource.columnDrift(.wallets, shown: ["id", "nickname"], hidden: [])?.contains("not columns [\"nickname\"]") == true)
        let walletColumns = Set(ReadModelTable.wallets.columns.map(\.name)).filter {
            !["_as_of", "_rank", "_event_id"].contains(where: $0.hasSuffix) && !["first_seen_at", "provider_created_at"].contains($0)
        }
        #expect(ListResource.columnDrift(.wallets, shown: walletColumns, hidden: []) == nil)
    }
}
