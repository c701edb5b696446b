import Foundation
import Testing

/// SQL text reaches the database only through `PostgresQuery` interpolation, which binds every
/// value. Raw text (`unsafeSQL:`, `\(unescaped:)`) is allowed only where the wrapper defines it
/// and in the places below, each for a reason, and no more often than today: a new use fails
/// here until it is justified in this list (or, better, written with binds and `\(identifier:)`).
@Suite struct RawSQLTests {
    /// File → (uses at most, why its raw text never holds input).
    static let allowed: [String: (Int, String)] = [
        "Sources/BillingStore/Schema/MigrationRunner.swift": (1, "runs the bundled migration files")
    ]

    @Test func rawSQLStaysWhereItIsJustified() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let sources = root.appendingPathComponent("Sources")
        let files = try #require(FileManager.default.enumerator(atPath: sources.path)).compactMap { $0 as? String }
            .filter { $0.hasSuffix(".swift") && !$0.hasPrefix("Postgres/") }
        #expect(files.count > 100, "the sources were found")
        var found: [String: Int] = [:]
        for file in files {
            let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
            let uses = text.components(separatedBy: "unsafeSQL:").count - 1 + text.components(separatedBy: "unescaped:").count - 1
            if uses > 0 { found["Sources/" + file] = uses }
        }
        for file in Self.allowed.keys.sorted() {
            #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent(file).path), "\(file) moved: update the list")
        }
        for (file, uses) in found.sorted(by: { $0.key < $1.key }) {
            let limit = Self.allowed[file]?.0 ?? 0
            #expect(uses <= limit, "\(file) has \(uses) raw SQL uses, \(limit) allowed: bind values, quote identifiers")
        }
    }
}
