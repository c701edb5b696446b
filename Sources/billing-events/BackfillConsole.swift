import BillingStore
import Foundation

/// The live progress of `backfill` on standard error: a bar redrawn in place on a terminal, a
/// plain line every few seconds otherwise (logs, CI).
final class BackfillProgressDisplay {
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private var lastShown: ContinuousClock.Instant?
    private var drawn = false

    /// Shows `progress` if enough time passed since the last update.
    func update(_ progress: BackfillProgress) {
        let now = ContinuousClock.now
        if let lastShown, now - lastShown < (isTerminal ? .milliseconds(200) : .seconds(5)) { return }
        lastShown = now
        let fraction = progress.fileSize > 0 ? min(1, Double(progress.fileBytesRead) / Double(progress.fileSize)) : 0
        let seconds = BackfillReportFormatter.seconds(progress.elapsed)
        let rate = seconds > 0 ? Double(progress.records) / seconds : 0
        let eta = fraction > 0 ? seconds * (1 - fraction) / fraction : nil
        let name = (progress.path as NSString).lastPathComponent
        let percent = String(format: "%5.1f%%", fraction * 100)
        let etaText = eta.map(Self.clock) ?? "--:--"
        if isTerminal {
            let filled = Int(fraction * 30)
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: 30 - filled)
            write("\r\u{1B}[K\(bar) \(percent)  \(Int(rate)) records/s  ETA \(etaText)  \(name)")
            drawn = true
        } else {
            write("backfill \(name): \(percent) of \(progress.fileSize) bytes, \(progress.records) records, \(Int(rate)) records/s, ETA \(etaText)\n")
        }
    }

    /// Clears the bar before the summary is printed.
    func finish() {
        if drawn { write("\r\u{1B}[K") }
        drawn = false
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    private static func clock(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        return total >= 3600
            ? String(format: "%d:%02d:%02d", total / 3600, total / 60 % 60, total % 60) : String(format: "%d:%02d", total / 60, total % 60)
    }
}

/// The summary `backfill` prints when it ends.
enum BackfillReportFormatter {
    /// One row per file (and a total row for several), with a note on resumed, skipped and rejected files.
    static func table(_ reports: [BackfillFileReport], dryRun: Bool) -> String {
        var table = TextTable(header: ["FILE", "READ", "INSERTED", "DUPLICATES", "SNAPSHOTS", "REJECTED", "ELAPSED", "RECORDS/S", "NOTE"])
        var total = BackfillCounts()
        var totalSeconds = 0.0
        var totalRecords: Int64 = 0
        for report in reports {
            let seconds = Self.seconds(report.elapsed)
            total.add(report.counts)
            totalSeconds += seconds
            totalRecords += report.recordsThisRun
            var notes: [String] = []
            if dryRun { notes.append("dry run: nothing written") }
            if report.alreadyComplete { notes.append("already imported; --restart imports it again") }
            if report.resumedAt > 0, !report.alreadyComplete { notes.append("resumed after record \(report.resumedAt)") }
            if let rejects = report.rejectsPath { notes.append("rejects in \(rejects)") }
            table.rows.append(row(report.path, report.counts, seconds: seconds, records: report.recordsThisRun, dryRun: dryRun, note: notes.joined(separator: "; ")))
        }
        if reports.count > 1 {
            table.rows.append(row("total", total, seconds: totalSeconds, records: totalRecords, dryRun: dryRun, note: ""))
        }
        var text = table.render()
        for report in reports where dryRun && !report.sampleRejects.isEmpty {
            text += "\n\nrejected in \(report.path)" + (report.counts.rejected > Int64(report.sampleRejects.count) ? " (first \(report.sampleRejects.count)):" : ":")
            for reject in report.sampleRejects { text += "\n  line \(reject.line): \(reject.reason)" }
        }
        return text
    }

    private static func row(_ name: String, _ counts: BackfillCounts, seconds: Double, records: Int64, dryRun: Bool, note: String) -> [String] {
        let stored = dryRun ? "-" : String(counts.inserted)
        return [
            name, String(counts.read), stored, dryRun ? "-" : String(counts.duplicates), dryRun ? "-" : String(counts.snapshots),
            String(counts.rejected), String(format: "%.1f s", seconds), seconds > 0 ? String(Int(Double(records) / seconds)) : "-", note,
        ]
    }

    /// A duration in seconds.
    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
