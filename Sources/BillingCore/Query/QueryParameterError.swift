/// A query parameter the API cannot accept: the route answers 400 naming the parameter.
public struct QueryParameterError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable code.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's text.
        public let rawValue: String
        /// A parameter the route does not know.
        public static let unknownParameter = Code(rawValue: "unknown_parameter")
        /// A value that is not valid for its parameter.
        public static let invalidParameter = Code(rawValue: "invalid_parameter")
        /// A cursor that was not made by this service or was altered.
        public static let invalidCursor = Code(rawValue: "invalid_cursor")
        /// A cursor made for other filters, another order or another list.
        public static let cursorMismatch = Code(rawValue: "cursor_mismatch")
        public var description: String { rawValue }
    }

    /// The code.
    public var code: Code
    /// The parameter at fault.
    public var parameter: String
    /// What is wrong with it.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, parameter: String, _ message: String) {
        self.code = code
        self.parameter = parameter
        self.message = message
    }

    public var description: String { "\(parameter): \(message)" }
}
