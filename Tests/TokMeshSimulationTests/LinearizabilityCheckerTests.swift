/// Tests of the Wing–Gong linearizability checker used by TokMesh's Raft simulator.
///
/// Their job: pin the checker's verdicts on hand-written histories from the literature (stale
/// reads, concurrent reads of either value, reads of never-written values, new-then-old reads,
/// puts of unknown outcome), check that it accepts hundreds of seeded random histories that are
/// linearizable by construction and rejects the same histories after a mutation that provably
/// breaks linearizability, compare it with a brute-force oracle on small random histories, and
/// check the step budget, determinism and the statistics. Everything is seeded and deterministic.
import Testing
@testable import TokMeshSimulation
import TokMeshCore

// MARK: - Helpers

/// The seeded tests draw from TokMeshCore's SplitMix64 (`below`/`percent` come with the
/// simulator).
typealias LinCheckRNG = SplitMix64

private func put(_ client: Int, _ key: String, _ value: String, _ invoked: Int, _ returned: Int?) -> KVOperation {
    KVOperation(client: client, kind: .put(key: key, value: value), invokedAt: invoked, returnedAt: returned)
}

private func get(_ client: Int, _ key: String, _ observed: String?, _ invoked: Int, _ returned: Int?) -> KVOperation {
    KVOperation(client: client, kind: .get(key: key, observed: observed), invokedAt: invoked, returnedAt: returned)
}

private func isViolation(_ verdict: LinearizabilityVerdict, key: String? = nil) -> Bool {
    if case .violation(let k, let explanation) = verdict {
        return !explanation.isEmpty && (key == nil || k == key)
    }
    return false
}

/// Simulates clients against a sequential store: each operation takes effect at one instant
/// strictly inside its interval, so the recorded history is linearizable by construction.
/// Some clients "crash": their operation never returns (a put may or may not have taken effect;
/// a crashed read records a garbage value that the checker must ignore).
struct LinearizableHistoryGenerator {
    var clients: Int
    var operations: Int
    var keys: [String]
    /// nil: every put writes a unique value; otherwise values are drawn from this many names.
    var valueSpace: Int?
    var putPercent = 50
    var crashPercent = 3

    func generate(seed: UInt64) -> [KVOperation] {
        var rng = LinCheckRNG(seed: seed)
        var history: [KVOperation] = []
        var store: [String: String] = [:]
        // Per client: index of its outstanding operation and whether it took effect yet.
        var pending: [(index: Int, applied: Bool, crashes: Bool)?] = Array(repeating: nil, count: clients)
        var invoked = 0
        var time = 0
        var nextValue = 0
        while invoked < operations || pending.contains(where: { $0 != nil }) {
            time += rng.below(3)  // ties happen on purpose
            let c = rng.below(clients)
            guard let p = pending[c] else {
                guard invoked < operations else { continue }
                invoked += 1
                let key = keys[rng.below(keys.count)]
                let kind: KVOperation.Kind
                if rng.percent(putPercent) {
                    nextValue += 1
                    let value = valueSpace.map { "v\(rng.below($0))" } ?? "v\(nextValue)"
                    kind = .put(key: key, value: value)
                } else {
                    kind = .get(key: key, observed: nil)
                }
                history.append(KVOperation(client: c, kind: kind, invokedAt: time, returnedAt: nil))
                pending[c] = (history.count - 1, false, rng.percent(crashPercent))
                continue
            }
            if !p.applied {
                if p.crashes && rng.percent(50) {
                    // Crash before taking effect.
                    if case .get(let key, _) = history[p.index].kind {
                        history[p.index].kind = .get(key: key, observed: "garbage")
                    }
                    pending[c] = nil
                    continue
                }
                switch history[p.index].kind {
                case .put(let key, let value):
                    store[key] = value
                case .get(let key, _):
                    history[p.index].kind = .get(key: key, observed: store[key])
                }
                pending[c] = (p.index, true, p.crashes)
                continue
            }
            if p.crashes {
                // Crash after taking effect: no response.
                if case .get(let key, _) = history[p.index].kind {
                    history[p.index].kind = .get(key: key, observed: "garbage")
                }
            } else {
                history[p.index].returnedAt = time
            }
            pending[c] = nil
        }
        return history
    }
}

/// Mutates one completed read so that the history provably has no linearization (needs
/// unique put values). Returns the mutated history and the key, or nil if no read qualifies.
private func breakOneRead(_ history: [KVOperation], rng: inout LinCheckRNG, seed: UInt64) -> ([KVOperation], String)? {
    let reads = history.indices.filter {
        if case .get = history[$0].kind, history[$0].returnedAt != nil { return true }
        return false
    }
    guard !reads.isEmpty else { return nil }
    let start = rng.below(reads.count)
    for offset in 0..<reads.count {
        let r = reads[(start + offset) % reads.count]
        let read = history[r]
        let key = read.key
        let rInv = read.invokedAt, rRet = read.returnedAt!
        let puts = history.filter { if case .put(key, _) = $0.kind { return true } else { return false } }
        func value(_ op: KVOperation) -> String {
            if case .put(_, let v) = op.kind { return v }
            fatalError()
        }
        var candidates: [String?] = []
        // 1. A value that was never written.
        candidates.append("never-written-\(seed)")
        // 2. Absent, although some put returned before the read started (keys are never deleted).
        if puts.contains(where: { ($0.returnedAt ?? Int.max) < rInv }) {
            candidates.append(Optional<String>.none)
        }
        // 3. The value of a put invoked after the read returned.
        if let future = puts.first(where: { $0.invokedAt > rRet }) {
            candidates.append(value(future))
        }
        // 4. The value of a put p overwritten by a completed put q with p → q → read in real time.
        for p in puts where p.returnedAt != nil {
            if puts.contains(where: { q in
                q.returnedAt != nil && p.returnedAt! < q.invokedAt && q.returnedAt! < rInv
            }) {
                candidates.append(value(p))
                break
            }
        }
        guard case .get(_, let oldObserved) = read.kind else { continue }
        candidates.removeAll { $0 == oldObserved }
        guard !candidates.isEmpty else { continue }
        var mutated = history
        mutated[r].kind = .get(key: key, observed: candidates[rng.below(candidates.count)])
        return (mutated, key)
    }
    return nil
}

/// Brute force over the whole store (no per-key decomposition, no memoisation, no pruning):
/// tries every order of the returned operations, plus any subset of the puts that never
/// returned, that respects real time, against a sequential key-value store.
private func bruteForceLinearizable(_ history: [KVOperation]) -> Bool {
    let ops = history.filter {
        if case .get = $0.kind { return $0.returnedAt != nil }
        return true
    }
    var used = [Bool](repeating: false, count: ops.count)
    func place(_ store: [String: String]) -> Bool {
        if ops.indices.allSatisfy({ used[$0] || ops[$0].returnedAt == nil }) { return true }
        for i in ops.indices where !used[i] {
            // Every returned operation that finished before `i` started must already be placed.
            let blocked = ops.indices.contains { j in
                j != i && !used[j] && ops[j].returnedAt != nil && ops[j].returnedAt! < ops[i].invokedAt
            }
            if blocked { continue }
            var next = store
            switch ops[i].kind {
            case .put(let key, let value):
                next[key] = value
            case .get(let key, let observed):
                if store[key] != observed { continue }
            }
            used[i] = true
            if place(next) { return true }
            used[i] = false
        }
        return false
    }
    return place([:])
}

// MARK: - Tests

@Suite struct LinearizabilityCheckerTests {
    @Test("a stale read after a completed write is a violation")
    func staleRead() {
        let absentAfterWrite = [put(1, "x", "1", 0, 1), get(2, "x", nil, 2, 3)]
        #expect(isViolation(LinearizabilityChecker.check(absentAfterWrite), key: "x"))
        let oldAfterOverwrite = [put(1, "x", "1", 0, 1), put(1, "x", "2", 2, 3), get(2, "x", "1", 4, 5)]
        #expect(isViolation(LinearizabilityChecker.check(oldAfterOverwrite), key: "x"))
    }

    @Test("a read concurrent with a write may return either value")
    func concurrentReadEitherValue() {
        for observed in ["1", "2"] {
            let history = [put(1, "x", "1", 0, 1), put(1, "x", "2", 2, 6), get(2, "x", observed, 3, 4)]
            #expect(LinearizabilityChecker.check(history) == .linearizable)
        }
        for observed: String? in [nil, "1"] {
            #expect(LinearizabilityChecker.check([put(1, "x", "1", 0, 10), get(2, "x", observed, 2, 3)]) == .linearizable)
        }
        // But not a value from a write that started after the read ended.
        #expect(isViolation(LinearizabilityChecker.check([get(2, "x", "1", 0, 1), put(1, "x", "1", 2, 3)]), key: "x"))
    }

    @Test("a read of a value never written is a violation")
    func neverWritten() {
        let history = [put(1, "x", "1", 0, 5), get(2, "x", "7", 1, 2)]
        guard case .violation(let key, let explanation) = LinearizabilityChecker.check(history) else {
            Issue.record("expected a violation")
            return
        }
        #expect(key == "x")
        #expect(explanation.contains("client 2"))
    }

    @Test("two sequential reads observing new then old is a violation; old then new is fine")
    func newThenOld() {
        let newThenOld = [
            put(1, "x", "1", 0, 1), put(1, "x", "2", 2, 10),
            get(2, "x", "2", 3, 4), get(3, "x", "1", 5, 6),
        ]
        #expect(isViolation(LinearizabilityChecker.check(newThenOld), key: "x"))
        let oldThenNew = [
            put(1, "x", "1", 0, 1), put(1, "x", "2", 2, 10),
            get(2, "x", "1", 3, 4), get(3, "x", "2", 5, 6),
        ]
        #expect(LinearizabilityChecker.check(oldThenNew) == .linearizable)
        // The same with reads from the same client and from two keys interleaved.
        let twoKeys = newThenOld + [put(4, "y", "a", 0, 1), get(4, "y", "a", 2, 3)]
        #expect(isViolation(LinearizabilityChecker.check(twoKeys), key: "x"))
    }

    @Test("a put of unknown outcome may take effect late, and be observed")
    func unknownPutObserved() {
        #expect(LinearizabilityChecker.check([put(1, "x", "a", 0, nil), get(2, "x", "a", 5, 6)]) == .linearizable)
        // Not yet visible, then visible much later.
        let late = [put(1, "x", "a", 0, nil), get(2, "x", nil, 1, 2), get(2, "x", nil, 50, 51), get(3, "x", "a", 100, 101)]
        #expect(LinearizabilityChecker.check(late) == .linearizable)
        // It can overwrite a later completed put.
        let overwrite = [put(1, "x", "a", 0, nil), put(2, "x", "b", 3, 4), get(2, "x", "b", 5, 6), get(3, "x", "a", 7, 8)]
        #expect(LinearizabilityChecker.check(overwrite) == .linearizable)
        // But once visible, it cannot disappear (there are no deletes).
        let vanished = [put(1, "x", "a", 0, nil), get(2, "x", "a", 2, 3), get(2, "x", nil, 4, 5)]
        #expect(isViolation(LinearizabilityChecker.check(vanished), key: "x"))
        // And it cannot be observed before it was invoked.
        #expect(isViolation(LinearizabilityChecker.check([get(2, "x", "a", 0, 1), put(1, "x", "a", 2, nil)]), key: "x"))
    }

    @Test("a put of unknown outcome may never take effect")
    func unknownPutNeverObserved() {
        let history = [put(1, "x", "a", 0, nil), get(2, "x", nil, 5, 6), get(3, "x", nil, 500, 501)]
        #expect(LinearizabilityChecker.check(history) == .linearizable)
        let afterOthers = [put(1, "x", "a", 0, 1), put(2, "x", "b", 2, nil), get(3, "x", "a", 10, 11), get(3, "x", "a", 12, 13)]
        #expect(LinearizabilityChecker.check(afterOthers) == .linearizable)
    }

    @Test("a read that never returned is ignored")
    func unreturnedRead() {
        let history = [put(1, "x", "a", 0, 1), get(2, "x", "garbage", 2, nil), get(2, "x", nil, 3, nil), get(3, "x", "a", 4, 5)]
        #expect(LinearizabilityChecker.check(history) == .linearizable)
    }

    @Test("operations sharing a tick are concurrent; strictly ordered ones are not")
    func equalTimes() {
        #expect(LinearizabilityChecker.check([put(1, "x", "a", 0, 5), get(2, "x", nil, 5, 6)]) == .linearizable)
        #expect(isViolation(LinearizabilityChecker.check([put(1, "x", "a", 0, 5), get(2, "x", nil, 6, 7)])))
    }

    @Test("values written twice (ABA) are handled")
    func repeatedValues() {
        let aba = [put(1, "x", "a", 0, 1), put(1, "x", "b", 2, 3), put(1, "x", "a", 4, 5), get(2, "x", "a", 6, 7)]
        #expect(LinearizabilityChecker.check(aba) == .linearizable)
        let abaRead = [
            put(1, "x", "a", 0, 1), put(1, "x", "b", 2, 8), put(3, "x", "a", 2, 8),
            get(2, "x", "a", 3, 4), get(2, "x", "b", 5, 6), get(2, "x", "a", 7, 9),
        ]
        #expect(LinearizabilityChecker.check(abaRead) == .linearizable)
        let abaBroken = [
            put(1, "x", "a", 0, 1), put(1, "x", "b", 2, 8),
            get(2, "x", "a", 3, 4), get(2, "x", "b", 5, 6), get(2, "x", "a", 7, 9),
        ]
        #expect(isViolation(LinearizabilityChecker.check(abaBroken), key: "x"))
    }

    @Test("keys are independent and the first violating key in sorted order is reported")
    func perKey() {
        let history = [
            put(1, "b", "1", 0, 1), get(2, "b", nil, 2, 3),  // violation on "b"
            put(1, "a", "1", 0, 1), get(2, "a", "1", 2, 3),  // fine on "a"
            put(1, "c", "1", 0, 1), get(2, "c", "9", 2, 3),  // violation on "c"
            get(3, "x", nil, 0, 1), put(3, "y", "1", 2, 3),  // reads of one key ignore writes to another
        ]
        #expect(isViolation(LinearizabilityChecker.check(history), key: "b"))
        #expect(LinearizabilityChecker.check([]) == .linearizable)
        #expect(LinearizabilityChecker.checkWithStats([]).steps == 0)
    }

    @Test("an explanation names what could not be ordered")
    func explanation() {
        let history = [put(1, "x", "1", 0, 1), put(1, "x", "2", 2, 3), get(7, "x", "1", 4, 5)]
        guard case .violation(_, let explanation) = LinearizabilityChecker.check(history) else {
            Issue.record("expected a violation")
            return
        }
        #expect(explanation.contains("client 7 get→\"1\" [4, 5]"))
        #expect(explanation.contains("\"2\""))
    }

    /// Ten puts all concurrent, then reads a, b, a: only one put can be last, so every order of
    /// the puts is explored before the checker can say no.
    private static func hardHistory() -> [KVOperation] {
        var history = (0..<10).map { put($0, "k", "v\($0)", 0, 100) }
        history += [get(20, "k", "v0", 101, 102), get(20, "k", "v1", 103, 104), get(20, "k", "v0", 105, 106)]
        return history
    }

    @Test("a search that exceeds a tiny budget is undecided, not a violation")
    func budget() {
        let history = Self.hardHistory()
        #expect(LinearizabilityChecker.check(history, stepBudget: 100) == .undecided(key: "k"))
        let full = LinearizabilityChecker.checkWithStats(history)
        #expect(isViolation(full.verdict, key: "k"))
        #expect(full.steps > 100)
        // A violation on another key outranks an undecided key.
        let both = history + [put(1, "z", "1", 0, 1), get(2, "z", nil, 2, 3)]
        #expect(isViolation(LinearizabilityChecker.check(both, stepBudget: 100), key: "z"))
        // A linearizable key still passes next to an undecided one, and the undecided one is reported.
        let mixed = history + [put(1, "a", "1", 0, 1), get(2, "a", "1", 2, 3)]
        #expect(LinearizabilityChecker.check(mixed, stepBudget: 100) == .undecided(key: "k"))
    }

    @Test("verdicts, explanations and steps do not depend on the order of the input")
    func deterministic() {
        let generator = LinearizableHistoryGenerator(clients: 5, operations: 60, keys: ["a", "b", "c"], valueSpace: nil)
        for seed in UInt64(1)...20 {
            var history = generator.generate(seed: seed)
            var rng = LinCheckRNG(seed: seed &* 31)
            if let (broken, _) = breakOneRead(history, rng: &rng, seed: seed) { history = broken }
            let reference = LinearizabilityChecker.checkWithStats(history)
            for _ in 0..<3 {
                var shuffled = history
                for i in stride(from: shuffled.count - 1, to: 0, by: -1) {
                    shuffled.swapAt(i, rng.below(i + 1))
                }
                let again = LinearizabilityChecker.checkWithStats(shuffled)
                #expect(again.verdict == reference.verdict)
                #expect(again.steps == reference.steps)
            }
        }
    }

    @Test("random linearizable histories are accepted", arguments: [
        LinearizableHistoryGenerator(clients: 3, operations: 30, keys: ["k"], valueSpace: nil),
        LinearizableHistoryGenerator(clients: 5, operations: 80, keys: ["a", "b"], valueSpace: nil, crashPercent: 8),
        LinearizableHistoryGenerator(clients: 8, operations: 120, keys: ["k"], valueSpace: 3, crashPercent: 5),
        LinearizableHistoryGenerator(clients: 10, operations: 150, keys: ["a", "b", "c"], valueSpace: nil, putPercent: 30),
    ])
    func acceptsLinearizable(generator: LinearizableHistoryGenerator) {
        for seed in UInt64(1)...150 {
            let history = generator.generate(seed: seed)
            let verdict = LinearizabilityChecker.check(history)
            #expect(verdict == .linearizable, "seed \(seed): \(verdict)")
        }
    }

    @Test("the same histories with one read broken are rejected", arguments: [
        LinearizableHistoryGenerator(clients: 3, operations: 30, keys: ["k"], valueSpace: nil),
        LinearizableHistoryGenerator(clients: 5, operations: 80, keys: ["a", "b"], valueSpace: nil, crashPercent: 8),
        LinearizableHistoryGenerator(clients: 10, operations: 150, keys: ["a", "b", "c"], valueSpace: nil, putPercent: 30),
    ])
    func rejectsBroken(generator: LinearizableHistoryGenerator) {
        var mutated = 0
        for seed in UInt64(1)...150 {
            let history = generator.generate(seed: seed)
            var rng = LinCheckRNG(seed: seed ^ 0xABCD)
            guard let (broken, key) = breakOneRead(history, rng: &rng, seed: seed) else { continue }
            mutated += 1
            let verdict = LinearizabilityChecker.check(broken)
            #expect(isViolation(verdict, key: key), "seed \(seed): \(verdict)")
        }
        #expect(mutated >= 140)
    }

    @Test("agrees with a brute-force oracle on small random histories")
    func bruteForceAgreement() {
        var rng = LinCheckRNG(seed: 2024)
        var counts = (linearizable: 0, violation: 0)
        for _ in 0..<600 {
            let n = 2 + rng.below(6)
            var history: [KVOperation] = []
            for _ in 0..<n {
                let key = ["a", "b"][rng.below(rng.percent(70) ? 1 : 2)]
                let invoked = rng.below(10)
                let returned: Int? = rng.percent(12) ? nil : invoked + rng.below(6)
                let value = ["1", "2", "3"][rng.below(3)]
                if rng.percent(50) {
                    history.append(put(rng.below(4), key, value, invoked, returned))
                } else {
                    history.append(get(rng.below(4), key, rng.percent(20) ? nil : value, invoked, returned))
                }
            }
            let expected = bruteForceLinearizable(history)
            let verdict = LinearizabilityChecker.check(history)
            if expected {
                counts.linearizable += 1
                #expect(verdict == .linearizable, "\(history)")
            } else {
                counts.violation += 1
                #expect(isViolation(verdict), "\(history)")
            }
        }
        // The sample exercises both outcomes.
        #expect(counts.linearizable > 100 && counts.violation > 100)
    }

    @Test("a 300-operation, 8-client history on one key is decided within a small step count")
    func sizeable() {
        let generator = LinearizableHistoryGenerator(clients: 8, operations: 300, keys: ["k"], valueSpace: nil, crashPercent: 2)
        for seed in UInt64(1)...10 {
            let history = generator.generate(seed: seed)
            let result = LinearizabilityChecker.checkWithStats(history)
            #expect(result.verdict == .linearizable)
            #expect(result.steps < 100_000)
            var rng = LinCheckRNG(seed: seed)
            if let (broken, key) = breakOneRead(history, rng: &rng, seed: seed) {
                #expect(isViolation(LinearizabilityChecker.check(broken), key: key))
            }
        }
    }
}
