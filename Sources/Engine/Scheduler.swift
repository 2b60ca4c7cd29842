/// Decides each step of continuous batching, without touching a model: which sequences run, how many of
/// their positions each computes, and into which cache blocks (state in, `StepPlan` out).
///
/// Every running sequence that is decoding gets its tokens first; prompts then run in chunks within the
/// step's prompt-token budget, so a long prompt never stalls the decodes. A prompt's chunks end at fixed
/// positions (multiples of the budget, or its end) whatever else is running, so a sequence is computed the
/// same way alone or in a batch; a chunk that does not fit this step waits for the next. Waiting requests
/// join as soon as the budget, the running limit and the cache allow, taking any cached blocks of their
/// prompt's prefix. When a sequence needs a block and none is left, the youngest running sequence is
/// preempted: its blocks go back to the pool (full ones stay cached) and it waits to be recomputed.
public struct Scheduler: Sendable {
    public struct Limits: Sendable, Equatable {
        /// Most prompt positions computed in one step, over all sequences, and the length of a prompt's
        /// chunks. Decoding tokens (fewer than `decodingTokens` pending) come on top, one per sequence.
        public var tokenBudget: Int
        /// Most sequences running at once.
        public var maxRunning: Int

        public init(tokenBudget: Int = 512, maxRunning: Int = 16) {
            self.tokenBudget = tokenBudget
            self.maxRunning = maxRunning
        }
    }

    /// A sequence with fewer pending tokens than this is decoding: its tokens go with the other decodes
    /// (the row-streaming products, `blockedMatmulTokens`) and do not count against the prompt budget.
    public static let decodingTokens = 4

    public let limits: Limits
    public private(set) var pool: KVBlockPool
    /// Sequences with positions in the cache, oldest first.
    public private(set) var running: [SequenceState] = []
    /// Sequences waiting to start or to be recomputed, in the order they will be taken.
    public private(set) var waiting: [SequenceState] = []
    private var arrivals = 0
    /// Sequences preempted so far.
    public private(set) var preemptions = 0

    public init(limits: Limits, pool: KVBlockPool) {
        precondition(limits.tokenBudget > 0 && limits.maxRunning > 0, "scheduler limits must be positive: \(limits)")
        self.limits = limits
        self.pool = pool
    }

    /// Queues a request; it fails when the sequence could never fit the whole cache.
    public mutating func submit(id: Int, prompt: [Int], maxNewTokens: Int) throws(EngineError) {
        guard !prompt.isEmpty else { throw .emptyPrompt }
        let positions = prompt.count + maxNewTokens
        guard pool.blocks(for: positions) <= pool.totalBlocks else {
            throw .exceedsCache(positions: positions, capacity: pool.totalBlocks * pool.blockSize)
        }
        waiting.append(SequenceState(id: id, prompt: prompt, maxNewTokens: maxNewTokens, arrival: arrivals))
        arrivals += 1
    }

    /// The next step: which positions of which sequences to compute.
    public mutating func schedule() -> StepPlan {
        var plan = StepPlan()
        var budget = limits.tokenBudget
        // Running sequences, oldest first (a preemption only removes younger ones, after `index`).
        var index = 0
        while index < running.count {
            let (count, cost) = nextChunk(running[index])
            if count > 0, cost <= budget, grow(runningAt: index, by: count, plan: &plan) {
                plan.items.append(.init(running[index], count: count))
                budget -= cost
            }
            index += 1
        }
        // Waiting sequences join in order while they fit.
        while running.count < limits.maxRunning, !waiting.isEmpty {
            var sequence = waiting.removeFirst()
            sequence.blocks = pool.takeCachedPrefix(of: sequence.tokens, limit: (sequence.tokens.count - 1) / pool.blockSize)
            sequence.computed = sequence.blocks.count * pool.blockSize
            let (count, cost) = nextChunk(sequence)
            // Running stays in arrival order, so the youngest is always last.
            let slot = running.firstIndex { $0.arrival > sequence.arrival } ?? running.count
            running.insert(sequence, at: slot)
            guard cost <= budget, grow(runningAt: slot, by: count, plan: &plan, mayPreempt: false) else {
                // No room this step: back to the head of the queue, holding nothing.
                requeue(running.remove(at: slot))
                break
            }
            plan.cachedPositions += sequence.computed
            plan.items.append(.init(running[slot], count: count))
            budget -= cost
        }
        return plan
    }

    /// The positions `sequence` computes next and what they cost of the prompt budget: every pending token
    /// when decoding (free), else the rest of the prompt chunk it is in.
    private func nextChunk(_ sequence: SequenceState) -> (count: Int, cost: Int) {
        let pending = sequence.pending
        if pending < Self.decodingTokens { return (pending, 0) }
        let chunkEnd = (sequence.computed / limits.tokenBudget + 1) * limits.tokenBudget
        let count = min(pending, chunkEnd - sequence.computed)
        return (count, count)
    }

    /// Makes room in sequence `index`'s blocks for `count` more positions, preempting younger sequences
    /// when allowed; false when they do not all fit (the blocks taken stay with the sequence).
    private mutating func grow(runningAt index: Int, by count: Int, plan: inout StepPlan, mayPreempt: Bool = true) -> Bool {
        let target = running[index].computed + count
        while running[index].blocks.count < pool.blocks(for: target) {
            if let block = pool.allocate() {
                running[index].blocks.append(block)
                continue
            }
            // The youngest sequence younger than this one and not in this step's plan goes back to waiting.
            guard mayPreempt, let victim = running.indices.last(where: { $0 > index && !plan.contains(running[$0].id) }) else { return false }
            preempt(at: victim, plan: &plan)
        }
        return true
    }

    private mutating func preempt(at index: Int, plan: inout StepPlan) {
        let sequence = running.remove(at: index)
        requeue(sequence)
        plan.preempted.append(sequence.id)
        preemptions += 1
    }

    /// Gives `sequence`'s blocks back and puts it at the head of the queue, to be computed again from the start.
    private mutating func requeue(_ sequence: SequenceState) {
        var sequence = sequence
        release(sequence.blocks)
        sequence.blocks = []
        sequence.computed = 0
        waiting.insert(sequence, at: 0)
    }

    private mutating func release(_ blocks: [Int]) {
        for block in blocks.reversed() { pool.release(block) }
    }

    /// Records that `plan` ran: the positions are in the cache and full blocks are registered for reuse.
    public mutating func completed(_ plan: StepPlan) {
        for item in plan.items {
            guard let index = running.firstIndex(where: { $0.id == item.id }) else { continue }
            let before = running[index].computed
            running[index].computed = item.start + item.count
            let size = pool.blockSize
            for b in (before / size)..<(running[index].computed / size) {
                pool.register(running[index].blocks[b], tokens: running[index].tokens[(b * size)..<((b + 1) * size)],
                              after: b > 0 ? running[index].blocks[b - 1] : nil)
            }
        }
    }

    /// Adds a generated token to a running sequence; false when it has reached its position limit.
    @discardableResult
    public mutating func append(_ token: Int, to id: Int) -> Bool {
        guard let index = running.firstIndex(where: { $0.id == id }) else { return false }
        guard running[index].tokens.count < running[index].positionLimit else { return false }
        running[index].tokens.append(token)
        return true
    }

    /// Removes a sequence, running or waiting, and gives its blocks back at once.
    public mutating func remove(_ id: Int) {
        if let index = running.firstIndex(where: { $0.id == id }) {
            release(running.remove(at: index).blocks)
        }
        waiting.removeAll { $0.id == id }
    }

    /// The state of sequence `id`, wherever it is.
    public func sequence(_ id: Int) -> SequenceState? {
        running.first { $0.id == id } ?? waiting.first { $0.id == id }
    }
}

/// One step of continuous batching, as `Scheduler.schedule()` decides it.
public struct StepPlan: Sendable, Equatable {
    public struct Item: Sendable, Equatable {
        public let id: Int
        /// Positions `start ..< start + count` of the sequence are computed this step.
        public let start: Int
        public let count: Int
        /// The sequence's block table, covering every position up to `start + count`.
        public let blocks: [Int]
        /// Whether this step computes the last known token, so its logits choose the next one.
        public let samples: Bool

        public init(id: Int, start: Int, count: Int, blocks: [Int], samples: Bool) {
            (self.id, self.start, self.count, self.blocks, self.samples) = (id, start, count, blocks, samples)
        }

        /// The next `count` positions of `sequence`, whose blocks already cover them.
        init(_ sequence: SequenceState, count: Int) {
            self.init(id: sequence.id, start: sequence.computed, count: count, blocks: sequence.blocks, samples: count == sequence.pending)
        }
    }

    public var items: [Item] = []
    /// Sequences sent back to waiting to make room (they will be recomputed).
    public var preempted: [Int] = []
    /// Prompt positions that joining sequences took from the prefix cache.
    public var cachedPositions = 0

    func contains(_ id: Int) -> Bool { items.contains { $0.id == id } }
    public var tokenCount: Int { items.reduce(0) { $0 + $1.count } }
}
