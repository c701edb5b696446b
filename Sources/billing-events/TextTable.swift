import Foundation

/// Left-aligned columns for terminal listings.
struct TextTable {
    var header: [String]
    var rows: [[String]] = []

    /// The table as lines, each column as wide as its widest cell.
    func render() -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
