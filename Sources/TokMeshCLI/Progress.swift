// Progress: the spinner and the progress bar of spec/09 §4.3 on stderr — only when stderr is a
// TTY and the output is neither quiet nor json/yaml. The spinner shows after 250 ms and turns
// every 100 ms; the bar has 40 cells, redraws at most 10 times a second and shows bytes, rate
// and ETA. Both clear their line and end with `✓ …` or `✗ …`.
import Foundation
import Synchronization

final class Spinner: Sendable {
    static let frames = Array("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏")
    private let enabled: Bool
    private let state = Mutex<(shown: Bool, stopped: Bool, message: String)>((false, false, ""))

    init(_ message: String, output: Output) {
        enabled = output.stderrTTY && !output.quiet && !output.structured
        state.withLock { $0.message = message }
        guard enabled else { return }
        let thread = Thread { [self] in
            Thread.sleep(forTimeInterval: 0.25)
            var i = 0
            while !state.withLock({ $0.stopped }) {
                let message = state.withLock { s -> String in
                    s.shown = true
                    return s.message
                }
                FileHandle.standardError.write(Data("\r\u{1B}[K\(Self.frames[i % Self.frames.count]) \(message)".utf8))
                i += 1
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        thread.start()
    }

    /// Changes the text shown next to the spinner (a job's progress and message).
    func update(_ message: String) { state.withLock { $0.message = message } }

    /// Stops; prints `✓ text` / `✗ text` when the spinner ran (else nothing).
    func stop(ok: Bool, _ text: String) {
        let shown = state.withLock { s -> Bool in
            s.stopped = true
            return s.shown
        }
        guard enabled else { return }
        FileHandle.standardError.write(Data(((shown ? "\r\u{1B}[K" : "") + (ok ? "✓ " : "✗ ") + text + "\n").utf8))
    }
}

final class ProgressBar: Sendable {
    private let label: String
    private let enabled: Bool
    private let state = Mutex<(done: Int64, total: Int64, lastDraw: Date, started: Date)>((0, 0, .distantPast, Date()))

    init(_ label: String, total: Int64, output: Output) {
        self.label = label
        enabled = output.stderrTTY && !output.quiet && !output.structured
        state.withLock { $0.total = total }
    }

    func advance(_ bytes: Int) { update(absolute: nil, delta: Int64(bytes)) }
    func set(_ done: Int64, total: Int64? = nil) {
        if let total { state.withLock { $0.total = total } }
        update(absolute: done, delta: 0)
    }

    private func update(absolute: Int64?, delta: Int64) {
        guard enabled else {
            state.withLock { $0.done = absolute ?? ($0.done + delta) }
            return
        }
        let line = state.withLock { s -> String? in
            s.done = absolute ?? (s.done + delta)
            let now = Date()
            guard now.timeIntervalSince(s.lastDraw) >= 0.1 || s.done >= s.total else { return nil }
            s.lastDraw = now
            return Self.render(label, done: s.done, total: s.total, elapsed: now.timeIntervalSince(s.started))
        }
        if let line { FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8)) }
    }

    static func render(_ label: String, done: Int64, total: Int64, elapsed: Double) -> String {
        let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 0
        let cells = Int(fraction * 40)
        let bar = String(repeating: "█", count: cells) + String(repeating: "░", count: 40 - cells)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let eta = rate > 0 && total > done ? Int(Double(total - done) / rate) : 0
        return "\(label)  [\(bar)] \(Int(fraction * 100))%  \(Output.size(done)) / \(Output.size(total))  \(Output.size(Int64(rate)))/s  ETA \(eta)s"
    }

    func finish() { if enabled { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) } }
}
