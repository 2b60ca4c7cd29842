import Kernels

/// One sequence's share of a batched pass (`Transformer.forward(_:cache:)`): its new tokens, the position
/// the first of them takes, the block table of its cache, and which logits it wants back.
public struct BatchSegment: Sendable, Equatable {
    public var tokens: [Int]
    /// Position of `tokens[0]`; positions before it are already in the sequence's blocks.
    public var start: Int
    /// Cache block of each `blockSize` positions, covering at least `start + tokens.count` positions.
    public var blocks: [Int]
    /// Logits for the last new position, for every new position, or none (a prompt chunk before the last).
    public var logits: Transformer.LogitPositions?

    public init(tokens: [Int], start: Int, blocks: [Int], logits: Transformer.LogitPositions?) {
        self.tokens = tokens
        self.start = start
        self.blocks = blocks
        self.logits = logits
    }
}

/// The rows of one pass through the layers: which sequence each run of rows belongs to, and which kernel
/// every product takes (row-streaming for decoding sequences, blocked for prompt chunks), so that each
/// sequence gets the bits it would get alone.
struct BatchLayout {
    struct Span {
        /// First row of the pass that belongs to the sequence.
        let row: Int
        let count: Int
        /// Position of the first row.
        let start: Int
        let table: [Int]

        var rows: Range<Int> { row..<(row + count) }
    }

    let spans: [Span]
    let path: ProductPath
    var rows: Int { spans.last.map { $0.row + $0.count } ?? 0 }
}
