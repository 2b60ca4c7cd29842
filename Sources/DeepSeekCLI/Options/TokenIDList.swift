import ArgumentParser

/// A comma-separated list of token ids (`1,2,3`), as `--ids` and `--prompt-ids` take.
struct TokenIDList: ExpressibleByArgument {
    let ids: [Int]

    init?(argument: String) {
        let parts = argument.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        let ids = parts.compactMap { Int($0) }
        guard !parts.isEmpty, ids.count == parts.count, ids.allSatisfy({ $0 >= 0 }) else { return nil }
        self.ids = ids
    }

    static var defaultCompletionKind: CompletionKind { .default }
}

extension String {
    func trimmingCharacters(in set: Set<Character>) -> String {
        String(drop { set.contains($0) }.reversed().drop { set.contains($0) }.reversed())
    }
}

extension Set where Element == Character {
    static let whitespaces: Set<Character> = [" ", "\t"]
}
