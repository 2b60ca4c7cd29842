/// One request's place in the scheduler: every token known so far (the prompt, then what was generated),
/// how many of their positions are in the cache, and the cache blocks that hold them.
public struct SequenceState: Sendable, Equatable {
    public let id: Int
    /// The prompt, then each generated token.
    public internal(set) var tokens: [Int]
    public let promptCount: Int
    /// Most positions the sequence may reach (prompt plus its most new tokens).
    public let positionLimit: Int
    /// Positions whose latents are in the cache, from the start.
    public internal(set) var computed = 0
    /// Cache block of each `blockSize` positions, in order.
    public internal(set) var blocks: [Int] = []
    /// Submission order: the youngest running sequence is preempted first.
    let arrival: Int

    init(id: Int, prompt: [Int], maxNewTokens: Int, arrival: Int) {
        self.id = id
        tokens = prompt
        promptCount = prompt.count
        positionLimit = prompt.count + maxNewTokens
        self.arrival = arrival
    }

    public var generatedCount: Int { tokens.count - promptCount }
    /// Known tokens whose positions are not yet in the cache.
    public var pending: Int { tokens.count - computed }
}
