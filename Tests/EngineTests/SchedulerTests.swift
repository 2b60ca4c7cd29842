import Testing
@testable import Engine

/// Continuous batching decisions, without a model: budgets, chunked prefill, prefix reuse, preemption.
struct SchedulerTests {
    /// Runs `plan` as an engine would: sampled sequences get token `next(id, length)` or finish.
    static func run(_ scheduler: inout Scheduler, _ plan: StepPlan, finished: inout [Int: [Int]]) {
        scheduler.completed(plan)
        for item in plan.items where item.samples {
            let sequence = scheduler.sequence(item.id)!
            let token = (item.id * 31 + sequence.tokens.count * 7) % 50
            if !scheduler.append(token, to: item.id) || sequence.tokens.count + 1 == sequence.positionLimit {
                finished[item.id] = scheduler.sequence(item.id)!.tokens
                scheduler.remove(item.id)
            }
        }
    }

    /// Decodes ride along free; a prompt runs in chunks that end at multiples of the budget, and a chunk
    /// that does not fit what is left of a step's budget waits whole for the next step.
    @Test func decodesComeFirstAndPromptsRunInFixedChunks() throws {
        var scheduler = Scheduler(limits: .init(tokenBudget: 8, maxRunning: 4), pool: KVBlockPool(blocks: 16, blockSize: 4))
        try scheduler.submit(id: 1, prompt: [1, 2, 3], maxNewTokens: 5)
        var finished: [Int: [Int]] = [:]
        var plan = scheduler.schedule()
        #expect(plan.items == [.init(id: 1, start: 0, count: 3, blocks: plan.items[0].blocks, samples: true)])
        Self.run(&scheduler, plan, finished: &finished)
        try scheduler.submit(id: 2, prompt: Array(0..<20), maxNewTokens: 2)
        plan = scheduler.schedule()
        #expect(plan.items.map { [$0.id, $0.start, $0.count] } == [[1, 3, 1], [2, 0, 8]])
        #expect(plan.items.map(\.samples) == [true, false])
        Self.run(&scheduler, plan, finished: &finished)
        try scheduler.submit(id: 3, prompt: Array(30..<36), maxNewTokens: 2)
        plan = scheduler.schedule()
        #expect(plan.items.map { [$0.id, $0.start, $0.count] } == [[1, 4, 1], [2, 8, 8]])
        Self.run(&scheduler, plan, finished: &finished)
        plan = scheduler.schedule()
        // 4 of the budget left: the 6-token prompt does not start with a piece of itself.
        #expect(plan.items.map { [$0.id, $0.start, $0.count] } == [[1, 5, 1], [2, 16, 4]])
        #expect(plan.items[1].samples && plan.items[1].blocks.count == 5)
        Self.run(&scheduler, plan, finished: &finished)
        plan = scheduler.schedule()
        #expect(plan.items.map { [$0.id, $0.start, $0.count] } == [[1, 6, 1], [2, 20, 1], [3, 0, 6]])
    }

    @Test func aSharedPromptPrefixIsTakenFromTheCache() throws {
        var scheduler = Scheduler(limits: .init(tokenBudget: 64, maxRunning: 4), pool: KVBlockPool(blocks: 16, blockSize: 4))
        let system = Array(100..<110)
        try scheduler.submit(id: 1, prompt: system + [1, 2], maxNewTokens: 1)
        var finished: [Int: [Int]] = [:]
        Self.run(&scheduler, scheduler.schedule(), finished: &finished)
        #expect(finished[1] != nil)
        try scheduler.submit(id: 2, prompt: system + [3], maxNewTokens: 1)
        let plan = scheduler.schedule()
        // Two whole blocks (8 positions) of the shared 10 are reused.
        #expect(plan.cachedPositions == 8)
        #expect(plan.items.map { [$0.start, $0.count] } == [[8, 3]])
        #expect(scheduler.pool.prefixHits == 2)
    }

    @Test func theYoungestSequenceIsPreemptedAndRecomputedWhenBlocksRunOut() throws {
        var scheduler = Scheduler(limits: .init(tokenBudget: 16, maxRunning: 4), pool: KVBlockPool(blocks: 4, blockSize: 2))
        try scheduler.submit(id: 1, prompt: [1, 2, 3], maxNewTokens: 4)
        try scheduler.submit(id: 2, prompt: [4, 5, 6], maxNewTokens: 4)
        var finished: [Int: [Int]] = [:]
        var preempted: [Int] = []
        for _ in 0..<40 where finished.count < 2 {
            let plan = scheduler.schedule()
            preempted += plan.preempted
            Self.run(&scheduler, plan, finished: &finished)
        }
        #expect(preempted.first == 2)
        #expect(scheduler.preemptions >= 1)
        #expect(finished[1]?.count == 7 && finished[2]?.count == 7)
        #expect(scheduler.pool.available == 4)
    }

    @Test func aRequestLargerThanTheWholeCacheIsRejected() {
        var scheduler = Scheduler(limits: .init(), pool: KVBlockPool(blocks: 2, blockSize: 4))
        #expect(throws: EngineError.exceedsCache(positions: 9, capacity: 8)) { try scheduler.submit(id: 1, prompt: [1, 2, 3, 4, 5], maxNewTokens: 4) }
        #expect(throws: EngineError.emptyPrompt) { try scheduler.submit(id: 1, prompt: [], maxNewTokens: 4) }
        #expect(scheduler.waiting.isEmpty)
    }

    /// Random submissions, cancellations and steps: no block is held by two sequences unless it is a
    /// shared cached prefix, every request that is not cancelled finishes with the tokens it would
    /// have had alone, and every block is back in the pool at the end.
    @Test(arguments: [1, 2, 3, 4])
    func randomTrafficKeepsTheBooks(seed: Int) throws {
        var random = SplitMix(state: UInt64(seed))
        var scheduler = Scheduler(limits: .init(tokenBudget: 12, maxRunning: 3), pool: KVBlockPool(blocks: 9, blockSize: 3))
        var finished: [Int: [Int]] = [:], expected: [Int: [Int]] = [:], cancelled: Set<Int> = []
        var nextID = 0, reused = 0
        for _ in 0..<400 {
            if random.next() % 3 == 0, nextID < 40 {
                let shared = [7, 7, 7, 8, 8, 8]
                let prompt = (random.next() % 2 == 0 ? shared : []) + (0..<(1 + Int(random.next() % 9))).map { _ in Int(random.next() % 50) }
                let maxNew = 1 + Int(random.next() % 8)
                try scheduler.submit(id: nextID, prompt: prompt, maxNewTokens: maxNew)
                var alone = prompt
                while alone.count < prompt.count + maxNew { alone.append((nextID * 31 + alone.count * 7) % 50) }
                expected[nextID] = alone
                nextID += 1
            }
            if random.next() % 17 == 0, let victim = (scheduler.running + scheduler.waiting).randomElement(using: &random) {
                scheduler.remove(victim.id)
                cancelled.insert(victim.id)
            }
            let plan = scheduler.schedule()
            // Prompt chunks stay within the budget and never cross a multiple of it.
            let chunks = plan.items.filter { $0.count >= Scheduler.decodingTokens }
            #expect(chunks.reduce(0) { $0 + $1.count } <= 12)
            for item in chunks { #expect(item.start / 12 == (item.start + item.count - 1) / 12) }
            reused += plan.cachedPositions
            Self.run(&scheduler, plan, finished: &finished)
            var holders: [Int: Int] = [:]
            for sequence in scheduler.running { for block in sequence.blocks { holders[block, default: 0] += 1 } }
            for (block, count) in holders where count > 1 { #expect(scheduler.pool.isRegistered(block)) }
            #expect(scheduler.pool.used == holders.count)
        }
        for id in scheduler.running.map(\.id) + scheduler.waiting.map(\.id) { scheduler.remove(id); cancelled.insert(id) }
        for (id, tokens) in finished { #expect(tokens == expected[id], "request \(id)") }
        #expect(finished.count + cancelled.count == nextID)
        // The traffic exercised what it is meant to check.
        #expect(finished.count >= 20 && reused > 0 && scheduler.preemptions > 0, "finished \(finished.count), reused \(reused), preemptions \(scheduler.preemptions)")
        #expect(scheduler.pool.available == 9)
    }
}

/// A tiny deterministic generator for the traffic test.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
