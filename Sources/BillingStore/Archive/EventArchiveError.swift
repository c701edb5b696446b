/// Why archiving or restoring a month of the log stopped. Nothing was dropped or restored.
public struct EventArchiveError: Error, Sendable, CustomStringConvertible {
    /// The kind of stop: an open set, compared by value.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        /// The code's text.
        public var rawValue: String
        /// Wraps a code's text.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The code's text.
        public var description: String { rawValue }

        /// A month is still being written, or not applied by every projection yet: run it later.
        public static let refused = Code(rawValue: "refused")
        /// The file is not a whole, verified archive (corrupt, truncated, not an archive).
        public static let invalidFile = Code(rawValue: "invalid_file")
        /// Writing or compressing the file failed.
        public static let failed = Code(rawValue: "failed")
    }

    /// What kind of stop it is.
    public var code: Code
    /// What went wrong, for the operator.
    public var message: String

    /// An error of kind `code` (an unreadable archive file unless told otherwise).
    public init(_ message: String, code: Code = .invalidFile) {
        self.code = code
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
