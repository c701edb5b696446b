import BillingCore
import BillingHTTP
import BillingStore
import Foundation
import Hummingbird
import Logging
import Postgres
import Prometheus
import Testing

/// The running router and `OpenAPI/openapi.yaml` describe the same routes.
@Suite struct OpenAPIContractTests {
    /// `METHOD /path` for every operation in the document, read line by line (paths at two spaces,
    /// methods at four, as the file is written).
    private func documentedOperations() throws -> Set<String> {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("OpenAPI/openapi.yaml"), encoding: .utf8)
        var operations: Set<String> = []
        var inPaths = false
        var path: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "paths:" {
                inPaths = true
                continue
            }
            if inPaths, !line.hasPrefix(" "), !line.isEmpty { inPaths = false }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), line.hasSuffix(":") {
                path = String(line.dropFirst(2).dropLast())
            } else if let path, line.hasPrefix("    "), !line.hasPrefix("     "), line.hasSuffix(":") {
                let method = line.trimmingCharacters(in: .whitespaces).dropLast()
                if ["get", "post", "put", "patch", "delete"].contains(method) {
                    operations.insert("\(method.uppercased()) \(path)")
                }
            }
        }
        return operations
    }

    @Test func everyRouteIsDocumentedAndEveryDocumentedRouteExists() throws {
        let pool = PostgresPool(configuration: PostgresConfiguration(connectionString: "host=/nonexistent"), logger: Logger(label: "test"))
        let webhooks = WebhookController<AppRequestContext>(
            intake: WebhookIntake(secrets: try WebhookSecrets(environment: [:])), ingestor: EventIngestor(pool: pool, logger: Logger(label: "test")))
        let queries = QueryController<AppRequestContext>(
            store: QueryStore(pool: pool), keys: APIKeyStore(pool: pool), cursors: CursorSigning(key: Array(repeating: 1, count: 32)))
        let router = buildRouter(
            readiness: { DatabaseHealth.Report(reachable: true, migrated: true) }, webhooks: webhooks, queries: queries,
            exposition: MetricsController(registry: PrometheusCollectorRegistry()) {})
        let served = Set(
            router.routes.map { route in
                let path = route.path.description
                return "\(route.method.rawValue) \(path.hasPrefix("/") ? path : "/" + path)"
            })
        let documented = try documentedOperations()
        #expect(!documented.isEmpty)
        #expect(
            served == documented,
            "served but undocumented: \(served.subtracting(documented)); documented but not served: \(documented.subtracting(served))")
    }
}
