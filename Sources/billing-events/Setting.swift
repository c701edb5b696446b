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

    /// The flag's value, else the variable's, else `value`; each must name a case of `T`.
    static func choice<T: RawRepresentable & CaseIterable>(_ flag: String?, _ variable: String, default value: T) throws -> T
    where T.RawValue == String {
        guard let text = flag ?? ProcessInfo.processInfo.environment[variable].flatMap({ $0.isEmpty ? nil : $0 }) else { return value }
        guard let choice = T(rawValue: text) else {
            throw ValidationError("\(variable) must be one of \(T.allCases.map(\.rawValue).joined(separator: ", ")), not \(text)")
        }
        return choice
    }
}
