import BillingCore
import Foundation
import Postgres
import TestSupport

@testable import BillingStore

/// A generated history laid out as provider exports: one NDJSON file per provider and
/// environment, Flexprice lines as Svix-export wrappers (svix-id and timestamp) unless `plain`
/// says a line is a bare body (only bodies with `updated_at` can be), the others bare bodies.
struct ExportedHistory {
    /// Each export line with the delivery it stands for (as a webhook would have brought it).
    var lines: [(file: String, line: String, delivery: IncomingDelivery)] = []
    /// The files, with the options to import each.
    var files: [(path: String, provider: Provider, environment: ProviderEnvironment?)] = []

    /// Exports `history` into `directory`; delivery `index` gets timestamp `1780000000 + index`.
    init(_ history: [GeneratedDelivery], directory: String, plain: (Int) -> Bool = { _ in false }) throws {
        for (index, generated) in history.enumerated() {
            let provider = Provider(rawValue: generated.provider)!
            let environment = ProviderEnvironment(rawValue: generated.environment)!
            let time = 1_780_000_000 + index
            let file = provider == .mintcash ? "\(directory)/mintcash.ndjson" : "\(directory)/\(provider.rawValue)-\(environment.rawValue).ndjson"
            let wrap = provider == .flexprice && !(plain(index) && generated.body.contains("\"updated_at\""))
            let line = wrap ? #"{"id":"\#(generated.deliveryID!)","timestamp":\#(time),"body":\#(generated.body)}"# : generated.body
            let delivery = IncomingDelivery(
                provider: provider, environment: environment, environmentIsExplicit: provider != .mintcash, body: Array(generated.body.utf8),
                deliveryID: generated.deliveryID, deliveryTimestamp: Date(timeIntervalSince1970: TimeInterval(time)),
                signatureHeaders: ["webhook-signature": "v1,test"], secretFingerprint: "0123456789ab")
            lines.append((file, line, delivery))
            if !files.contains(where: { $0.path == file }) {
                files.append((file, provider, provider == .mintcash ? nil : environment))
            }
        }
    }

    /// Writes the files with `lines` (in that order; repeats allowed).
    func write(_ lines: [(file: String, line: String, delivery: IncomingDelivery)]) throws {
        for file in files {
            let text = lines.filter { $0.file == file.path }.map { $0.line + "\n" }.joined()
            try text.write(toFile: file.path, atomically: true, encoding: .utf8)
        }
    }

    /// Imports every file; returns the summed counts.
    func importAll(into configuration: PostgresConfiguration, configure: (inout BackfillOptions) -> Void = { _ in }) async throws -> BackfillCounts {
        var total = BackfillCounts()
        for file in files {
            total.add(
                try await importFile(file.path, provider: file.provider, environment: file.environment, into: configuration, configure: configure)
                    .counts)
        }
        return total
    }
}

/// Imports one file with the importer the command uses.
func importFile(
    _ path: String, provider: Provider, environment: ProviderEnvironment? = nil, entity: BackfillEntity? = nil,
    into configuration: PostgresConfiguration?, configure: (inout BackfillOptions) -> Void = { _ in }
) async throws -> BackfillFileReport {
    var options = BackfillOptions(provider: provider)
    options.environment = environment
    options.entity = entity
    options.batchSize = 500
    configure(&options)
    return try await BackfillImporter(configuration: configuration, options: options, logger: TestDatabase.logger).importFile(path)
}

/// Stores deliveries as the receiver does (normalized, channel webhook), in one transaction.
func storeAsWebhooks(_ deliveries: [IncomingDelivery], in pool: PostgresPool) async throws {
    let items = try deliveries.map { (try EventNormalizer.normalize($0), $0) }
    try await pool.perform { connection in
        try connection.transaction {
            for (event, delivery) in items { _ = try EventIngestor.store(.event(event, delivery), on: connection) }
        }
    }
}

/// Every stored event as JSON, without what differs between runs (position, transaction, receipt time).
func eventRows(_ pool: PostgresPool) async throws -> [String] {
    try await pool.query(
        """
        SELECT (to_jsonb(e) - 'position' - 'transaction_id' - 'received_at')::text FROM billing.events e ORDER BY id
        """
    ).decodeColumn(String.self)
}

/// A fresh scratch directory for export files.
func exportDirectory() -> String {
    TestDatabase.makeScratchDirectory()
}
