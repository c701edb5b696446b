import ArgumentParser
import Foundation

/// Numeric settings that come from a flag or else an environment variable.
enum Setting {
    /// The flag's value, else the variable's, else `value`; each must be positive.
    static func positive(_ flag: Int?, _ variable: String, default value: Int) throws -> Int {
        if let flag {
            guard flag > 0 else { throw ValidationError("the value for \(variable.lowercased()) must be positive") }
            return flag
        }
        guard let text = ProcessInfo.processInfo.environment[variable], !text.isEmpty else { return value }
        guard let number = Int(text), number > 0 else { throw ValidationError("\(variable) must be a positive number") }
        return number
    }
}
