/// How the records of a backfill file are laid out (after gzip is removed).
public enum BackfillFormat: String, Sendable, CaseIterable {
    /// One JSON value per line; blank lines are skipped.
    case ndjson
    /// One JSON array of values, possibly spread over many lines.
    case json
    /// Comma-separated values with a header row (RFC 4180 quoting; quoted fields may span lines).
    case csv

    /// The format a file name says (`.ndjson`, `.jsonl`, `.csv`, each optionally `.gz`), nil when
    /// the name does not say (`.json` may be an array or one value per line: the content decides).
    public static func named(byPath path: String) -> BackfillFormat? {
        var name = path.lowercased()
        if name.hasSuffix(".gz") { name.removeLast(3) }
        if name.hasSuffix(".ndjson") || name.hasSuffix(".jsonl") { return .ndjson }
        if name.hasSuffix(".csv") { return .csv }
        return nil
    }

    /// The JSON layout of content that starts with `firstByte` (its first non-blank byte): an
    /// array when it is `[`, else one value per line.
    public static func sniffed(firstByte: UInt8?) -> BackfillFormat {
        firstByte == UInt8(ascii: "[") ? .json : .ndjson
    }
}
