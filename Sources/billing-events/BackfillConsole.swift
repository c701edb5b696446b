import BillingStore
import Foundation

/// The live progress of `backfill` on standard error: a bar redrawn in place on a terminal, a
/// plain line every few seconds otherwise (logs, CI). The percentage is of the whole file (a
/// resumed run starts part-way); record counts and rates are this run's, and the whole file's
/// record count is given beside them when the run resumed.
final class BackfillProgressDisplay {
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private var lastShown: ContinuousClock.Instant?
    private var drawn = false
    /// Where this run's first batch left the file: the rate of this run's reading starts there.
    private var baseline: (bytes: Int64, seconds: Double)?

    /// Shows `progress` if enough time passed since the last update.
    func update(_ progress: BackfillProgress) {
        let now = ContinuousClock.now
        let seconds = BackfillReportFormatter.seconds(progress.elapsed)
        if baseline == nil { baseline = (progress.fileBytesRead, seconds) }
        if let lastShown, now - lastShown < (isTerminal ? .milliseconds(200) : .seconds(5)) { return }
        lastShown = now
        print(Self.describe(progress, baseline: baseline ?? (0, 0), terminal: isTerminal))
    }

    /// The text of one update: the bar line on a terminal, else a plain line.
    static func describe(_ progress: BackfillProgress, baseline: (bytes: Int64, seconds: Double), terminal: Bool) -> String {
        let fraction = progress.fileSize > 0 ? min(1, Double(progress.fileBytesRead) / Double(progress.fileSize)) : 0
        let seconds = BackfillReportFormatter.seconds(progress.elapsed)
        let rate = seconds > 0 ? Double(progress.records) / seconds : 0
        // The time left from this run's own pace through the file (a resumed run skipped a part in no time).
        let bytesPerSecond = seconds > baseline.seconds ? Double(progress.fileBytesRead - baseline.bytes) / (seconds - baseline.seconds) : 0
        let remaining = Double(max(0, progress.fileSize - progress.fileBytesRead))
        let etaText = remaining == 0 ? clock(0) : bytesPerSecond > 0 ? clock(remaining / bytesPerSecond) : "--:--"
        let name = (progress.path as NSString).lastPathComponent
        let percent = String(format: "%.1f%%", fraction * 100)
        let resumed =
            progress.resumedRecords > 0 ? " (file: \(progress.resumedRecords + progress.records), resumed after \(progress.resumedRecords))" : ""
        if terminal {
            let filled = Int(fraction * 30)
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: 30 - filled)
            return "\r\u{1B}[K\(bar) \(percent) of file  this run: \(progress.records) records\(resumed), \(Int(rate))/s  ETA \(etaText)  \(name)"
        }
        return "backfill \(name): file \(percent) read (\(progress.fileBytesRead) of \(progress.fileSize) bytes); "
            + "this run: \(progress.records) records\(resumed), \(Int(rate)) records/s; ETA \(etaText)\n"
    }

    private func print(_ text: String) {
        if isTerminal { drawn = true }
        write(text)
    }

    /// Clears the bar before the summary is printed.
    func finish() {
        if drawn { write("\r\u{1B}[K") }
        drawn = false
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    static func clock(_ seconds: Double) -> String {
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
            table.rows.append(
                row(report.path, report.counts, seconds: seconds, records: report.recordsThisRun, dryRun: dryRun, note: notes.joined(separator: "; "))
            )
        }
        if reports.count > 1 {
            table.rows.append(row("total", total, seconds: totalSeconds, records: totalRecords, dryRun: dryRun, note: ""))
        }
        var text = table.render()
        for report in reports where dryRun && !report.sampleRejects.isEmpty {
            text +=
                "\n\nrejected in \(report.path)"
                + (report.counts.rejected > Int64(report.sampleRejects.count) ? " (first \(report.sampleRejects.count)):" : ":")
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
