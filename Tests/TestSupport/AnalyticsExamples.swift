import Foundation
import Postgres

/// The example queries of docs/analytics.md: every ```sql block after a `<!-- example: name -->`
/// line. The tests run them against a generated history and the projection benchmark times them
/// on a million events, so the document is what is checked.
public enum AnalyticsExamples {
    /// `docs/analytics.md` of this checkout.
    public static var documentPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/analytics.md").path
    }

    /// `(name, SQL)` of every example, in document order.
    public static func load(from path: String = documentPath) throws -> [(name: String, sql: String)] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var examples: [(String, String)] = []
        var name: String?
        var sql: [Substring]?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("<!-- example: "), line.hasSuffix(" -->") {
                name = String(line.dropFirst("<!-- example: ".count).dropLast(" -->".count))
            } else if name != nil, sql == nil, line == "```sql" {
                sql = []
            } else if let lines = sql, line == "```" {
                examples.append((name!, lines.joined(separator: "\n")))
                (name, sql) = (nil, nil)
            } else if sql != nil {
                sql!.append(line)
            }
        }
        return examples
    }

    /// `sql` with psql variables (`:'as_of'`) replaced by quoted literals.
    public static func bind(_ sql: String, _ variables: [String: String]) -> String {
        variables.reduce(sql) { text, variable in
            text.replacingOccurrences(of: ":'\(variable.key)'", with: PostgresQuery.quoteLiteral(variable.value))
        }
    }
}
