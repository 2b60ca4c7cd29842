import Foundation
import JSON

/// Writing to the terminal: results to stdout, diagnostics to stderr.
enum Output {
    static func print(_ text: String, terminator: String = "\n") {
        FileHandle.standardOutput.write(Data((text + terminator).utf8))
    }

    static func status(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    static func json(_ value: JSONValue) {
        print(value.serialized())
    }
}

extension JSONValue {
    static func ints(_ values: [Int]) -> JSONValue { .array(values.map { .int($0) }) }
    static func floats(_ values: ArraySlice<Float>) -> JSONValue { .array(values.map { .double(Double($0)) }) }
}
