/// What became of a verified webhook body before it reaches the database.
public enum IntakeResult: Sendable {
    /// Understood: store this event.
    case event(NormalizedEvent, IncomingDelivery)
    /// Verified but not understood: keep the delivery in quarantine with the reason.
    case quarantine(QuarantineReason, IncomingDelivery)
}
