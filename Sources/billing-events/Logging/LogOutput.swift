import Foundation
import Logging
import Synchronization

/// Where log lines go: standard error, one `write` per line under a lock so lines from
/// concurrent tasks never interleave. Also chooses the handler from `LOG_FORMAT` and `LOG_LEVEL`.
enum LogOutput {
    /// The line format.
    enum Format: String {
        /// `2026-11-21T08:03:01.123Z info message key=value`, level coloured on a terminal.
        case text
        /// One JSON object per line.
        case json
    }

    private static let lock = Mutex(())

    /// Writes `line` (which ends in a newline) to standard error.
    static func write(_ line: String) {
        var line = line
        line.withUTF8 { bytes in
            lock.withLock { _ in
                var offset = 0
                while offset < bytes.count {
                    let written = Foundation.write(STDERR_FILENO, bytes.baseAddress! + offset, bytes.count - offset)
                    if written <= 0 { if errno == EINTR { continue } else { return } }
                    offset += written
                }
            }
        }
    }

    /// Installs the process-wide handler once: JSON lines with `LOG_FORMAT=json`, text otherwise
    /// (coloured when standard error is a terminal); level from `LOG_LEVEL` (default `info`).
    static let bootstrap: Void = {
        let environment = ProcessInfo.processInfo.environment
        let format = environment["LOG_FORMAT"].flatMap { Format(rawValue: $0.lowercased()) } ?? .text
        let level = environment["LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0.lowercased()) } ?? .info
        let colour = isatty(STDERR_FILENO) == 1 && environment["NO_COLOR"] == nil
        LoggingSystem.bootstrap { label in
            switch format {
            case .text: TextLogHandler(label: label, level: level, colour: colour)
            case .json: JSONLogHandler(label: label, level: level)
            }
        }
    }()

    /// `2026-11-21T08:03:01.123Z` for now.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var parts = tm()
        var seconds = now.tv_sec
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let millis = Int(now.tv_nsec / 1_000_000)
        let fraction = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : "\(millis)"
        return
            "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(fraction)Z"
    }

    /// Handler metadata, then the provider's, then the call's (later wins).
    static func merged(_ handler: Logger.Metadata, _ provider: Logger.MetadataProvider?, _ call: Logger.Metadata?) -> Logger.Metadata {
        var metadata = handler
        if let provided = provider?.get() { metadata.merge(provided) { $1 } }
        if let call { metadata.merge(call) { $1 } }
        return metadata
    }
}
