import Foundation

/// Columns padded to their widest cell, for terminal listings. The last column is not padded.
enum TextTable {
    static func render(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column] + 2, withPad: " ", startingAt: 0)
            }.joined().trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n")
    }
}
