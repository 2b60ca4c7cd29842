import Foundation
import Sampling
import Tokenizer

/// What the engine keeps for a request while it runs: how its tokens are chosen and turned into text,
/// where its events go, and its counts and times.
struct ActiveRequest {
    let request: GenerationRequest
    /// Token ids that end the request (end-of-sequence and the request's stop tokens), not emitted.
    let endIDs: Set<Int>
    /// Most tokens it may generate (its own limit, lowered to what the context leaves).
    let maxNewTokens: Int
    var sampler: Sampler
    var decoder: StreamingDecoder
    var stops: StopMatcher
    let continuation: AsyncThrowingStream<GenerationEvent, Error>.Continuation
    var usage: Usage
    let submitted: Date
    var started: Date?
    var firstToken: Date?
}
