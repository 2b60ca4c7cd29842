import Foundation

/// The metrics of a run, one row per step, kept as `metrics.csv` beside the checkpoints, with a loss curve
/// drawn from them as `loss.svg`.
public struct MetricsLog {
    public static let header = "step,loss,mtp_loss,balance_loss,learning_rate,gradient_norm,tokens_per_second,held_out_loss"
    public let directory: String
    /// Rows by step.
    public private(set) var rows: [Int: String] = [:]

    /// Opens the log in `directory`, keeping the rows of steps up to `step` already there (a resumed run
    /// drops what came after its checkpoint).
    public init(directory: String, keepingThrough step: Int) {
        self.directory = directory
        let path = URL(fileURLWithPath: directory).appendingPathComponent("metrics.csv").path
        if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            for line in text.split(separator: "\n").dropFirst() {
                if let s = Int(line.prefix { $0 != "," }), s <= step { rows[s] = String(line) }
            }
        }
    }

    public mutating func record(_ report: Trainer.StepReport, heldOutLoss: Double?) {
        func number(_ value: Double?) -> String { value.map { String(format: "%.6g", $0) } ?? "" }
        rows[report.step] = [String(report.step), number(report.loss), number(report.mtpLoss), number(report.balanceLoss),
                             number(Double(report.learningRate)), number(Double(report.gradientNorm)),
                             number(Double(report.tokens) / max(report.seconds, 1e-9)), number(heldOutLoss)].joined(separator: ",")
    }

    /// Writes `metrics.csv` and `loss.svg` (each atomically).
    public func write() throws {
        let base = URL(fileURLWithPath: directory)
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        let csv = ([Self.header] + rows.keys.sorted().map { rows[$0]! }).joined(separator: "\n") + "\n"
        try Data(csv.utf8).write(to: base.appendingPathComponent("metrics.csv"), options: .atomic)
        try Data(svg().utf8).write(to: base.appendingPathComponent("loss.svg"), options: .atomic)
    }

    /// (step, value) of column `column` wherever it has one.
    func series(_ column: Int) -> [(Double, Double)] {
        rows.keys.sorted().compactMap { step in
            let fields = rows[step]!.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count > column, let value = Double(fields[column]) else { return nil }
            return (Double(step), value)
        }
    }

    /// The training loss (blue) and held-out loss (orange) against the step, with labelled axes.
    func svg() -> String {
        let width = 640.0, height = 400.0, left = 60.0, right = 20.0, top = 20.0, bottom = 40.0
        let train = series(1), heldOut = series(7)
        let all = train + heldOut
        let maxStep = max(all.map(\.0).max() ?? 1, 1), maxLoss = max(all.map(\.1).max() ?? 1, 1e-9)
        func x(_ step: Double) -> Double { left + step / maxStep * (width - left - right) }
        func y(_ loss: Double) -> Double { top + (1 - loss / maxLoss) * (height - top - bottom) }
        func path(_ points: [(Double, Double)], color: String) -> String {
            guard !points.isEmpty else { return "" }
            let d = points.enumerated().map { i, p in String(format: "%@%.1f,%.1f", i == 0 ? "M" : "L", x(p.0), y(p.1)) }.joined(separator: " ")
            return "<path d=\"\(d)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\"/>\n"
        }
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        out += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        out += String(format: "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>\n", left, height - bottom, width - right, height - bottom)
        out += String(format: "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>\n", left, top, left, height - bottom)
        for i in 0...4 {
            let loss = maxLoss * Double(i) / 4, step = maxStep * Double(i) / 4
            out += String(format: "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%.2f</text>\n", left - 6, y(loss) + 4, loss)
            out += String(format: "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">%.0f</text>\n", x(step), height - bottom + 16, step)
        }
        out += String(format: "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">step</text>\n", (left + width - right) / 2, height - 6)
        out += "<text x=\"14\" y=\"\(Int(top + 10))\">loss</text>\n"
        out += path(train, color: "#1f77b4") + path(heldOut, color: "#ff7f0e")
        out += "<text x=\"\(Int(width - 160))\" y=\"\(Int(top + 12))\" fill=\"#1f77b4\">training</text>\n"
        out += "<text x=\"\(Int(width - 90))\" y=\"\(Int(top + 12))\" fill=\"#ff7f0e\">held-out</text>\n"
        return out + "</svg>\n"
    }
}
