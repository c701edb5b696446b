/// A deployment `serve` refuses to start in, named so the operator can mend it.
public struct ServeSetupError: Error, Sendable, CustomStringConvertible {
    /// An open set of set-up failures.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's name.
        public let rawValue: String
        /// Work that needs its own server session (projector leadership, migrations) was pointed at
        /// a pooler in transaction or statement mode.
        public static let sessionPooled = Code(rawValue: "session_pooled")
        public var description: String { rawValue }
    }

    /// What is wrong.
    public var code: Code
    /// What to change, naming the setting.
    public var message: String
    public var description: String { message }
}
