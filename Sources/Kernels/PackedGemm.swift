/// The FP32 matrix product behind `gemm`, in the form BLIS and OpenBLAS use: both operands are copied
/// into packed panels, and a register-blocked outer-product micro-kernel multiplies them.
///
/// For each block of `kc` inner indices:
/// - `op(a)` is packed into panels of `mr` rows, stored inner index by inner index (`mr` values each);
/// - `op(b)` is packed into panels of `nr` columns, stored the same way (`nr` values each);
/// - each micro-kernel call keeps an `mr × nr` tile of `c` in 12 vector registers, and for every inner
///   index broadcasts `mr` values of `a` against two vectors of `b`: 12 fused multiply-adds per 2 loads
///   and 6 broadcasts, with no horizontal sums.
///
/// Packing reads each operand in whichever order it is stored, so no transposition is ever copied out.
/// Panels past the edge of the matrix are padded with zeros, and their tiles go through a scratch tile.
///
/// Every value of `c` is summed in the same order (inner index ascending within a block, blocks in order),
/// whatever its position, the matrix sizes or the number of threads: the result is deterministic.
enum PackedGemm {
    /// Rows of a micro-tile.
    static let mr = 6
    /// Columns of a micro-tile: two 8-lane vectors.
    static let nr = 16
    /// Inner indices per block: a `kc × nr` panel of `b` (16 KiB) stays in L1 across a block of `a`'s panels.
    static let kc = 256
    /// Rows of `c` per work item: `mc × kc` of packed `a` (72 KiB) stays in L2.
    static let mc = 72

    /// `c (+)= op(a) · op(b)` with `c` row-major `[m, n]`; `a` is `[m, k]` (or `[k, m]` when `aTransposed`),
    /// `b` is `[k, n]` (or `[n, k]` when `bTransposed`), all stored densely. Sizes are positive.
    static func multiply(c: UnsafeMutablePointer<Float>, a: UnsafePointer<Float>, b: UnsafePointer<Float>, m: Int, n: Int, k: Int,
                         aTransposed: Bool, bTransposed: Bool, accumulate: Bool) {
        multiply(c: c, stride: n, a: Operand(a, transposed: aTransposed, stride: aTransposed ? m : k),
                 b: Operand(b, transposed: !bTransposed, stride: bTransposed ? k : n), m: m, n: n, k: k,
                 accumulate: accumulate, threaded: true)
    }

    /// `c (+)= op(a) · op(b)` with row `i` of `c` at `c + i·stride`; `a` gives `op(a)`'s rows (`m` of them) and
    /// `b` gives `op(b)`'s columns (`n`), each `k` values long. `threaded` splits the work across
    /// `ThreadPool`; a caller already inside a parallel loop passes false. Sizes are positive.
    static func multiply(c: UnsafeMutablePointer<Float>, stride: Int, a: Operand, b: Operand, m: Int, n: Int, k: Int,
                         accumulate: Bool, threaded: Bool) {
        let rowPanels = (m + mr - 1) / mr, columnPanels = (n + nr - 1) / nr
        let blockDepth = min(kc, k)
        let packedA = UnsafeMutablePointer<Float>.allocate(capacity: rowPanels * mr * blockDepth)
        let packedB = UnsafeMutablePointer<Float>.allocate(capacity: columnPanels * nr * blockDepth)
        defer {
            packedA.deallocate()
            packedB.deallocate()
        }
        let threads = threaded ? ThreadPool.threads : 1
        let items = WorkItems(rowPanels: rowPanels, columnPanels: columnPanels, threads: threads)
        var first = 0
        while first < k {
            let depth = min(kc, k - first)
            let packPanels = { (range: Range<Int>) in
                for panel in range {
                    if panel < rowPanels {
                        a.pack(panel: panel, width: mr, count: m, from: first, depth: depth, into: packedA + panel * mr * depth)
                    } else {
                        let p = panel - rowPanels
                        b.pack(panel: p, width: nr, count: n, from: first, depth: depth, into: packedB + p * nr * depth)
                    }
                }
            }
            if threaded {
                ThreadPool.parallelFor(rowPanels + columnPanels, grain: 4, packPanels)
            } else {
                packPanels(0..<(rowPanels + columnPanels))
            }
            let add = accumulate || first > 0
            let multiplyItems = { (range: Range<Int>) in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: mr * nr) { scratch in
                    let tile = scratch.baseAddress!
                    for item in range {
                        let (rows, columns) = items.panels(of: item)
                        for jp in columns {
                            for ip in rows {
                                let i0 = ip * mr, j0 = jp * nr
                                let height = min(mr, m - i0), width = min(nr, n - j0)
                                let pa = UnsafePointer(packedA + ip * mr * depth), pb = UnsafePointer(packedB + jp * nr * depth)
                                if height == mr && width == nr {
                                    microKernel(depth: depth, a: pa, b: pb, c: c + i0 * stride + j0, stride: stride, add: add)
                                    continue
                                }
                                microKernel(depth: depth, a: pa, b: pb, c: tile, stride: nr, add: false)
                                for i in 0..<height {
                                    let row = c + (i0 + i) * stride + j0, part = tile + i * nr
                                    for j in 0..<width { row[j] = add ? row[j] + part[j] : part[j] }
                                }
                            }
                        }
                    }
                }
            }
            if threaded {
                // Items differ in size (edge panels), and a thread may be slowed by others: take them as they come.
                ThreadPool.parallelForEach(items.count) { multiplyItems($0..<($0 + 1)) }
            } else {
                multiplyItems(0..<items.count)
            }
            first += depth
        }
    }

    /// The work items of one block: `mc` rows of `c` times a run of column panels, enough items to keep
    /// every thread busy to the end (about 8 per thread), each at most 16 column panels wide.
    struct WorkItems {
        let rowPanels: Int, columnPanels: Int
        let rowPanelsPerItem: Int, columnPanelsPerItem: Int
        let rowBlocks: Int, columnBlocks: Int
        var count: Int { rowBlocks * columnBlocks }

        init(rowPanels: Int, columnPanels: Int, threads: Int) {
            self.rowPanels = rowPanels
            self.columnPanels = columnPanels
            rowPanelsPerItem = PackedGemm.mc / PackedGemm.mr
            rowBlocks = (rowPanels + rowPanelsPerItem - 1) / rowPanelsPerItem
            let wanted = max(1, 8 * threads / rowBlocks)
            columnPanelsPerItem = min(16, max(1, columnPanels / wanted))
            columnBlocks = (columnPanels + columnPanelsPerItem - 1) / columnPanelsPerItem
        }

        /// Item `item`'s row panels and column panels; items run column block by column block.
        func panels(of item: Int) -> (rows: Range<Int>, columns: Range<Int>) {
            let rowBlock = item % rowBlocks, columnBlock = item / rowBlocks
            let rows = (rowBlock * rowPanelsPerItem)..<min(rowPanels, (rowBlock + 1) * rowPanelsPerItem)
            let columns = (columnBlock * columnPanelsPerItem)..<min(columnPanels, (columnBlock + 1) * columnPanelsPerItem)
            return (rows, columns)
        }
    }

    /// One operand as vectors of values: `op(a)`'s rows or `op(b)`'s columns. Value `i` of vector `o` is at
    /// `o·stride + i` (vectors stored one after another) or, when `transposed`, at `i·stride + o`.
    struct Operand {
        let base: UnsafePointer<Float>
        let transposed: Bool
        let stride: Int

        init(_ base: UnsafePointer<Float>, transposed: Bool, stride: Int) {
            self.base = base
            self.transposed = transposed
            self.stride = stride
        }

        /// Writes vectors `panel·width ..< panel·width + width` (zeros from vector `count` on) at value
        /// indices `from ..< from + depth` into `target`, index by index: `width` values each.
        func pack(panel: Int, width: Int, count: Int, from: Int, depth: Int, into target: UnsafeMutablePointer<Float>) {
            let o0 = panel * width, present = min(width, count - o0)
            if transposed {
                for p in 0..<depth {
                    let source = base + (from + p) * stride + o0, row = target + p * width
                    for o in 0..<present { row[o] = source[o] }
                    for o in present..<width { row[o] = 0 }
                }
            } else {
                for o in 0..<present {
                    let source = base + (o0 + o) * stride + from
                    for p in 0..<depth { target[p * width + o] = source[p] }
                }
                if present < width {
                    for p in 0..<depth { for o in present..<width { target[p * width + o] = 0 } }
                }
            }
        }
    }

    /// `c[0..<mr, 0..<nr] (+)= a · b` for one packed panel of each, `depth` inner indices deep.
    @inline(__always)
    static func microKernel(depth: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                            c: UnsafeMutablePointer<Float>, stride: Int, add: Bool) {
        var c00 = SIMD8<Float>(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00
        var c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00
        var pa = a, pb = UnsafeRawPointer(b)
        for _ in 0..<depth {
            let b0 = loadFloats(pb), b1 = loadFloats(pb, byteOffset: 32)
            var s = SIMD8<Float>(repeating: pa[0])
            multiplyAdd(&c00, s, b0); multiplyAdd(&c01, s, b1)
            s = SIMD8<Float>(repeating: pa[1])
            multiplyAdd(&c10, s, b0); multiplyAdd(&c11, s, b1)
            s = SIMD8<Float>(repeating: pa[2])
            multiplyAdd(&c20, s, b0); multiplyAdd(&c21, s, b1)
            s = SIMD8<Float>(repeating: pa[3])
            multiplyAdd(&c30, s, b0); multiplyAdd(&c31, s, b1)
            s = SIMD8<Float>(repeating: pa[4])
            multiplyAdd(&c40, s, b0); multiplyAdd(&c41, s, b1)
            s = SIMD8<Float>(repeating: pa[5])
            multiplyAdd(&c50, s, b0); multiplyAdd(&c51, s, b1)
            pa += mr
            pb += nr * MemoryLayout<Float>.stride
        }
        store(c, row: 0, stride: stride, c00, c01, add: add)
        store(c, row: 1, stride: stride, c10, c11, add: add)
        store(c, row: 2, stride: stride, c20, c21, add: add)
        store(c, row: 3, stride: stride, c30, c31, add: add)
        store(c, row: 4, stride: stride, c40, c41, add: add)
        store(c, row: 5, stride: stride, c50, c51, add: add)
    }

    @inline(__always)
    static func store(_ c: UnsafeMutablePointer<Float>, row: Int, stride: Int, _ low: SIMD8<Float>, _ high: SIMD8<Float>, add: Bool) {
        let target = UnsafeMutableRawPointer(c + row * stride)
        if add {
            target.storeBytes(of: loadFloats(UnsafeRawPointer(target)) + low, as: SIMD8<Float>.self)
            target.storeBytes(of: loadFloats(UnsafeRawPointer(target), byteOffset: 32) + high, toByteOffset: 32, as: SIMD8<Float>.self)
        } else {
            target.storeBytes(of: low, as: SIMD8<Float>.self)
            target.storeBytes(of: high, toByteOffset: 32, as: SIMD8<Float>.self)
        }
    }
}
