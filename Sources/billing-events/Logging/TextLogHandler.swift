import Logging

/// Human-readable lines: time, level, message, then `key=value` pairs sorted by key. Values with
/// spaces, quotes or line breaks are quoted and escaped, so one event is always one line.
struct TextLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    let colour: Bool

    init(label: String, level: Logger.Level, colour: Bool) {
        self.label = label
        self.logLevel = level
        self.colour = colour
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let level = event.level.rawValue
        let padded = level + String(repeating: " ", count: max(0, 8 - level.count))
        var line = LogOutput.timestamp() + " " + (colour ? Self.colourCode(event.level) + padded + "\u{1B}[0m" : padded)
        line += Self.escaped("\(event.message)", quoting: false)
        for (key, value) in LogOutput.merged(metadata, metadataProvider, event.metadata).sorted(by: { $0.key < $1.key }) {
            line += " \(key)=" + Self.escaped(value.description, quoting: true)
        }
        LogOutput.write(line + "\n")
    }

    /// Line breaks and control characters escaped; quoted when `quoting` and the text has spaces,
    /// quotes or nothing at all.
    static func escaped(_ text: String, quoting: Bool) -> String {
        var out = ""
        var needsQuotes = quoting && text.isEmpty
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\"":
                out += quoting ? "\\\"" : "\""
                needsQuotes = quoting
            case " ", "=":
                out.unicodeScalars.append(scalar)
                needsQuotes = quoting
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return needsQuotes ? "\"\(out)\"" : out
    }

    private static func colourCode(_ level: Logger.Level) -> String {
        switch level {
        case .trace, .debug: "\u{1B}[2m"
        case .info: "\u{1B}[32m"
        case .notice: "\u{1B}[36m"
        case .warning: "\u{1B}[33m"
        case .error, .critical: "\u{1B}[31m"
        }
    }
}
