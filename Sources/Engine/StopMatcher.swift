/// Finds stop strings in streamed text, holding back any tail that could still grow into one so
/// that no part of a stop string is ever emitted.
struct StopMatcher: Sendable {
    let stops: [String]
    private var held = ""

    init(stops: [String]) { self.stops = stops.filter { !$0.isEmpty } }

    /// Adds `text`; returns what may be emitted, and whether a stop string was completed
    /// (the text before it is in the returned string).
    mutating func feed(_ text: String) -> (emit: String, stopped: Bool) {
        guard !stops.isEmpty else { return (text, false) }
        held += text
        if let range = stops.compactMap({ held.range(of: $0) }).min(by: { $0.lowerBound < $1.lowerBound }) {
            let emit = String(held[..<range.lowerBound])
            held = ""
            return (emit, true)
        }
        // Keep the longest suffix of `held` that is a proper prefix of some stop string.
        var keep = 0
        for stop in stops {
            for length in stride(from: min(stop.count - 1, held.count), to: keep, by: -1)
            where held.hasSuffix(stop.prefix(length)) {
                keep = length
                break
            }
        }
        let emit = String(held.dropLast(keep))
        held = String(held.suffix(keep))
        return (emit, false)
    }

    /// Whatever is still held once generation ends for another reason.
    mutating func flush() -> String {
        defer { held = "" }
        return held
    }
}
