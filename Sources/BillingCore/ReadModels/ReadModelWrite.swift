import Foundation

/// The version of a register write. Greater wins: the freshest "as of" first, then the
/// provider's status precedence, then the event id, so equal times still break the same way in
/// every order.
public struct ReadModelVersion: Sendable, Hashable, Comparable {
    /// "As of" in microseconds since 1970.
    public var asOf: Int64
    /// Status precedence for ties (terminal states rank highest).
    public var rank: Int
    /// The event that wrote it.
    public var eventID: UUID

    /// Creates a version.
    public init(asOf: Int64, rank: Int, eventID: UUID) {
        self.asOf = asOf
        self.rank = rank
        self.eventID = eventID
    }

    /// Orders like PostgreSQL's row comparison of `(timestamptz, integer, uuid)`.
    public static func < (lhs: ReadModelVersion, rhs: ReadModelVersion) -> Bool {
        if lhs.asOf != rhs.asOf { return lhs.asOf < rhs.asOf }
        if lhs.rank != rhs.rank { return lhs.rank < rhs.rank }
        return UUID.bytewiseLess(lhs.eventID, rhs.eventID)
    }
}

/// A value for a read-model column; the writer casts it to the column's type.
public enum ReadModelValue: Sendable, Hashable {
    /// Text, an exact decimal, a JSON document, `true`/`false` or an integer, as text.
    case text(String)
    /// A time in microseconds since 1970.
    case time(Int64)
    /// The stable id of another read-model row.
    case id(UUID)
}

/// One change a projected event makes to one read-model row.
public struct ReadModelWrite: Sendable, Equatable {
    /// The table.
    public var table: ReadModelTable
    /// The provider.
    public var provider: Provider
    /// The environment.
    public var environment: ProviderEnvironment
    /// The provider's id of the entity.
    public var providerID: String
    /// The register it sets; nil when the event only names the entity (the row then exists and
    /// its first-seen and updated times move, nothing else).
    public var register: ReadModelRegister?
    /// The version; its `asOf` also feeds `first_seen_at` and `updated_at`.
    public var version: ReadModelVersion
    /// Column values of the register; absent columns become NULL.
    public var values: [String: ReadModelValue]

    /// Creates a write.
    public init(
        table: ReadModelTable, provider: Provider, environment: ProviderEnvironment, providerID: String,
        register: ReadModelRegister?, version: ReadModelVersion, values: [String: ReadModelValue] = [:]
    ) {
        self.table = table
        self.provider = provider
        self.environment = environment
        self.providerID = providerID
        self.register = register
        self.version = version
        self.values = values
    }

    /// The row's stable id.
    public var id: UUID { table.id(provider: provider, environment: environment, providerID: providerID) }
}
