/// One bound parameter: its type OID, wire format and bytes (nil is SQL NULL).
public struct PostgresBind: Sendable, Equatable {
    /// Text or binary wire format.
    public enum Format: Int32, Sendable {
        case text = 0
        case binary = 1
    }

    /// The OID sent with the parameter; `.unspecified` lets the server infer it.
    public var type: PostgresDataType
    /// How `bytes` are encoded.
    public var format: Format
    /// The encoded value; nil binds NULL.
    public var bytes: [UInt8]?

    /// A text-format value.
    public init(type: PostgresDataType, text: String?) {
        self.type = type
        self.format = .text
        self.bytes = text.map { Array($0.utf8) }
    }

    /// A value with explicit format and bytes.
    public init(type: PostgresDataType, format: Format, bytes: [UInt8]?) {
        self.type = type
        self.format = format
        self.bytes = bytes
    }
}
