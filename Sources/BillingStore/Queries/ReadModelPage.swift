import BillingCore

/// One page of a list, as JSON objects ready to be joined into the response.
public struct ReadModelPage: Sendable {
    /// The rows' JSON objects, in order.
    public var rows: [String]
    /// True when more rows follow in this order.
    public var hasMore: Bool
    /// The key of the last row, for the next cursor (nil when there are no more rows).
    public var nextKey: PageKey?
    /// The log position the read models had reached when the page was read.
    public var position: Int64
}
