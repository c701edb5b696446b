import BillingCore
import Logging

/// One JSON object per line: `time`, `level`, `message`, `logger`, `source`, then the metadata as
/// top-level members (a key that collides with those is prefixed `metadata_`). Numbers and
/// booleans given as values stay numbers and booleans; nested metadata stays nested.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    static let reserved: Set<String> = ["time", "level", "message", "logger", "source"]

    init(label: String, level: Logger.Level) {
        self.label = label
        self.logLevel = level
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var line = "{\"time\":\"\(LogOutput.timestamp())\",\"level\":\"\(event.level.rawValue)\",\"message\":"
        line += JSONValue.quote("\(event.message)")
        line += ",\"logger\":" + JSONValue.quote(label) + ",\"source\":" + JSONValue.quote(event.source)
        for (key, value) in LogOutput.merged(metadata, metadataProvider, event.metadata).sorted(by: { $0.key < $1.key }) {
            line += "," + JSONValue.quote(Self.reserved.contains(key) ? "metadata_" + key : key) + ":" + Self.json(value)
        }
        LogOutput.write(line + "}\n")
    }

    static func json(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case let .string(text): return JSONValue.quote(text)
        case let .stringConvertible(convertible):
            switch convertible {
            case let number as any BinaryInteger: return "\(number)"
            case let number as Double where number.isFinite: return "\(number)"
            case let flag as Bool: return flag ? "true" : "false"
            default: return JSONValue.quote(convertible.description)
            }
        case let .array(values): return "[" + values.map(json).joined(separator: ",") + "]"
        case let .dictionary(members):
            return "{" + members.sorted(by: { $0.key < $1.key }).map { JSONValue.quote($0.key) + ":" + json($0.value) }.joined(separator: ",") + "}"
        }
    }
}
