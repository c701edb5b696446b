import Foundation

/// One verified body as the event log stores it: what it is about, when, how much, and its
/// dedupe key. Built by a provider's normalizer from an ``IncomingDelivery``.
public struct NormalizedEvent: Sendable, Equatable {
    /// Stable id derived from provider + dedupe key, so a replay or backfill of the same event
    /// meets the same id and a rebuild keeps it.
    public var id: UUID
    /// The provider.
    public var provider: Provider
    /// The environment, from the body where it has one, else from the route.
    public var environment: ProviderEnvironment
    /// The provider's event type, verbatim (`payment.succeeded`).
    public var eventType: String
    /// What the event is about.
    public var entityKind: EntityKind
    /// The provider's id of that entity.
    public var entityID: String?
    /// The provider's id of the customer, where the body names one.
    public var customerID: String?
    /// When the provider says it happened.
    public var occurredAt: Date?
    /// The freshness of the body's state, for last-writer-wins ordering (per-provider rule).
    public var asOf: Date
    /// The event's amount in major units, exact.
    public var amount: DecimalAmount?
    /// Upper-case ISO currency of `amount` (or of the entity when there is no amount).
    public var currency: String?
    /// Unique per provider: mintfax `id`, MintCash `eventId`, Flexprice `svix-id`.
    public var dedupeKey: String
    /// The provider's own event id when the body carries one (mintfax, MintCash).
    public var providerEventID: String?

    /// Creates an event; `id` is derived from provider and dedupe key.
    public init(
        provider: Provider, environment: ProviderEnvironment, eventType: String, entityKind: EntityKind,
        entityID: String?, customerID: String?, occurredAt: Date?, asOf: Date, amount: DecimalAmount?,
        currency: String?, dedupeKey: String, providerEventID: String?
    ) {
        self.id = Self.id(provider: provider, dedupeKey: dedupeKey)
        self.provider = provider
        self.environment = environment
        self.eventType = eventType
        self.entityKind = entityKind
        self.entityID = entityID
        self.customerID = customerID
        self.occurredAt = occurredAt
        self.asOf = asOf
        self.amount = amount
        self.currency = currency
        self.dedupeKey = dedupeKey
        self.providerEventID = providerEventID
    }

    /// The amount as stored: plain decimal with at least the currency's minor-unit digits
    /// (`45.50`, `49.99`, `500` JPY), never rounded.
    public var amountText: String? {
        amount.map { $0.formatted(minimumScale: currency.map(Currency.minorUnitDigits) ?? 0) }
    }

    /// A name-based UUID (version 8, RFC 9562) from SHA-256 of `provider` and `dedupeKey`.
    public static func id(provider: Provider, dedupeKey: String) -> UUID {
        UUID(nameBasedOn: "billing-events/event/\(provider.rawValue)/\(dedupeKey)")
    }
}
