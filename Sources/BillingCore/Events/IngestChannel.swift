/// How an event reached the log.
public enum IngestChannel: String, Sendable, CaseIterable, Codable {
    /// A signed HTTP delivery.
    case webhook
    /// A line of a provider export imported by `billing-events backfill`.
    case backfill
    /// An entity snapshot (list API or CSV row) imported by `billing-events backfill --entity`.
    case snapshot
}
