import Crypto
import Foundation

/// One forward-only schema migration: a numbered SQL file from `Migrations/`.
public struct Migration: Sendable, Equatable {
    /// The number in the file name (`0003_wallets.sql` → 3).
    public let version: Int
    /// The file name without the `.sql` extension.
    public let name: String
    /// The SQL script.
    public let sql: String
    /// SHA-256 of the file's bytes, hex; an applied migration whose file changes is refused.
    public let checksum: String
    /// False when the file starts with `-- billing-events: no-transaction` (for statements such as
    /// `CREATE INDEX CONCURRENTLY` that cannot run inside a transaction). Such a file runs one
    /// statement at a time (see ``statements``) and each must be safe to run again, since an
    /// interruption leaves the file partly applied and the next run starts it over.
    public let transactional: Bool

    /// Parses a migration from its file name and contents.
    public init(fileName: String, contents: Data) throws(MigrationError) {
        guard fileName.hasSuffix(".sql") else {
            throw MigrationError(code: .invalidFile, message: "\(fileName) is not a .sql file")
        }
        let name = String(fileName.dropLast(4))
        let digits = name.prefix { $0.isASCII && $0.isNumber }
        guard digits.count == 4, let version = Int(digits), name.dropFirst(4).first == "_", name.count > 5 else {
            throw MigrationError(
                code: .invalidFile, message: "\(fileName) must be named NNNN_description.sql (four digits, underscore)")
        }
        guard let sql = String(data: contents, encoding: .utf8) else {
            throw MigrationError(code: .invalidFile, message: "\(fileName) is not UTF-8")
        }
        self.version = version
        self.name = name
        self.sql = sql
        self.checksum = SHA256.hash(data: contents).map { String(format: "%02x", $0) }.joined()
        self.transactional = !sql.hasPrefix("-- billing-events: no-transaction")
    }

    /// What runs as one request: the whole file when it is transactional, else each statement on
    /// its own (PostgreSQL runs a multi-statement request as one implicit transaction, where
    /// `CREATE INDEX CONCURRENTLY` is refused). A statement ends with `;` at the end of a line
    /// outside a `$$` block.
    public var statements: [String] {
        guard !transactional else { return [sql] }
        var statements: [String] = []
        var current = ""
        var inDollarBlock = false
        for line in sql.split(separator: "\n", omittingEmptySubsequences: false) {
            let code = line.hasPrefix("--") ? "" : line
            current += line + "\n"
            if code.components(separatedBy: "$$").count % 2 == 0 { inDollarBlock.toggle() }
            if !inDollarBlock, code.trimmingCharacters(in: .whitespaces).hasSuffix(";") {
                statements.append(current)
                current = ""
            }
        }
        if !current.split(separator: "\n").allSatisfy({ $0.hasPrefix("--") || $0.allSatisfy(\.isWhitespace) }) {
            statements.append(current)
        }
        return statements
    }

    /// The migrations shipped with this build, in order: from `BILLING_EVENTS_MIGRATIONS` when set,
    /// else from the resource bundle next to the executable (copy it along when deploying).
    public static func bundled() throws -> [Migration] {
        try load(directory: bundledDirectory())
    }

    /// Where ``bundled()`` reads from.
    public static func bundledDirectory() throws -> URL {
        if let override = ProcessInfo.processInfo.environment["BILLING_EVENTS_MIGRATIONS"], !override.isEmpty {
            return URL(fileURLWithPath: override)
        }
        // Not `Bundle.module`: its accessor crashes the process when the bundle is missing.
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let directory = executable.deletingLastPathComponent()
            .appendingPathComponent("billing-events_BillingStore.resources/Migrations")
        guard FileManager.default.fileExists(atPath: directory.path) else {
            throw MigrationError(
                code: .invalidFile,
                message: "migrations not found at \(directory.path); copy billing-events_BillingStore.resources "
                    + "next to the executable or set BILLING_EVENTS_MIGRATIONS to the Migrations directory")
        }
        return directory
    }

    /// Loads every `.sql` file of a directory, ordered by version; duplicate versions are refused.
    public static func load(directory: URL) throws -> [Migration] {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".sql") }
        let migrations = try files.map { file in
            try Migration(fileName: file, contents: Data(contentsOf: directory.appendingPathComponent(file)))
        }.sorted { $0.version < $1.version }
        for (previous, next) in zip(migrations, migrations.dropFirst()) where previous.version == next.version {
            throw MigrationError(code: .invalidFile, message: "\(previous.name) and \(next.name) share version \(next.version)")
        }
        return migrations
    }
}

/// Why migrations cannot be applied.
public struct MigrationError: Error, Sendable, CustomStringConvertible {
    /// An open set of failure codes.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's name.
        public let rawValue: String
        /// A file is misnamed, unreadable or duplicated.
        public static let invalidFile = Code(rawValue: "invalid_file")
        /// An applied migration's file was edited afterwards.
        public static let checksumMismatch = Code(rawValue: "checksum_mismatch")
        public var description: String { rawValue }
    }

    /// What went wrong.
    public var code: Code
    /// What went wrong and what to do.
    public var message: String
    public var description: String { message }
}
