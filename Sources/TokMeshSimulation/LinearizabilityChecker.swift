/// Linearizability checker for the key-value histories that TokMesh's Raft simulator records.
///
/// Its job: given every client operation (puts and gets, with logical invocation and response
/// times; a missing response means the outcome is unknown), decide whether some sequential
/// execution of a key-value store, in which every key starts absent, explains every response
/// while respecting real-time order. It decomposes the history per key (a store of independent
/// registers is linearizable iff every key's sub-history is), then runs a depth-first
/// Wing–Gong search on each key with Lowe's memoisation of visited (linearized set, register
/// value) states, reporting a violation with a short explanation, or `undecided` when the search
/// exceeds its step budget. It is deterministic: keys are checked in sorted order and nothing
/// depends on hash iteration order.
///
/// Conventions:
/// - Operation `a` precedes `b` in real time iff `a.returnedAt < b.invokedAt`. Equal times
///   count as concurrent (the lenient choice: a tick shared by a response and an invocation
///   never produces a false violation).
/// - A get that never returned is dropped. A put that never returned is concurrent with
///   everything invoked after it and may take effect at any point after its invocation, or
///   never.
/// - A response earlier than its invocation (a recording bug) is treated as returning at the
///   invocation time.

/// One client operation on a key-value store, as the simulator recorded it.
public struct KVOperation: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case put(key: String, value: String)
        /// A read; `observed` is what it returned (nil: key absent). Ignored when the read never returned.
        case get(key: String, observed: String?)
    }

    public var client: Int
    public var kind: Kind
    /// Logical time of invocation and of the response (nil: no response — the outcome is unknown:
    /// a put may or may not have taken effect, at any time after `invokedAt`).
    public var invokedAt: Int
    public var returnedAt: Int?

    public init(client: Int, kind: Kind, invokedAt: Int, returnedAt: Int?) {
        self.client = client
        self.kind = kind
        self.invokedAt = invokedAt
        self.returnedAt = returnedAt
    }

    /// The key the operation touches.
    public var key: String {
        switch kind {
        case .put(let key, _), .get(let key, _): return key
        }
    }
}

public enum LinearizabilityVerdict: Sendable, Equatable {
    case linearizable
    /// The key whose sub-history has no linearization, with a short human-readable explanation.
    case violation(key: String, explanation: String)
    /// The search exceeded `stepBudget` on some key (report it, do not count it as a violation).
    case undecided(key: String)
}

public enum LinearizabilityChecker {
    /// Checks a history; every key starts absent. Per-key decomposition (a KV store of
    /// independent registers is linearizable iff every key's sub-history is), then for each key
    /// a depth-first Wing–Gong search with Lowe's memoisation (visited set of (linearized-ops
    /// bitset, register value)) and the usual pruning (only minimal operations — those invoked
    /// before every pending operation's return — are candidates; reads that never returned are
    /// dropped; puts that never returned may be linearized anywhere after their invocation or
    /// never). `stepBudget` bounds search steps per key.
    ///
    /// Keys are checked in sorted order. The first key (in that order) with a violation is
    /// reported; a violation on any key outranks an undecided key; otherwise the first undecided
    /// key is reported.
    public static func check(_ history: [KVOperation], stepBudget: Int = 1_000_000) -> LinearizabilityVerdict {
        checkWithStats(history, stepBudget: stepBudget).verdict
    }

    /// As `check`, also returning the total number of search steps (states expanded) over the
    /// keys checked. A key settled without search (no completed operation, or a read of a value
    /// that cannot have been written in time) costs no step. The search stops at the first
    /// violation, so keys after it are not counted.
    public static func checkWithStats(
        _ history: [KVOperation], stepBudget: Int = 1_000_000
    ) -> (verdict: LinearizabilityVerdict, steps: Int) {
        var byKey: [String: [KVOperation]] = [:]
        for op in history {
            byKey[op.key, default: []].append(op)
        }
        var totalSteps = 0
        var firstUndecided: String?
        for key in byKey.keys.sorted() {
            let (outcome, steps) = checkKey(byKey[key]!, stepBudget: stepBudget)
            totalSteps += steps
            switch outcome {
            case .linearizable:
                continue
            case .violation(let explanation):
                return (.violation(key: key, explanation: explanation), totalSteps)
            case .undecided:
                if firstUndecided == nil { firstUndecided = key }
            }
        }
        if let key = firstUndecided {
            return (.undecided(key: key), totalSteps)
        }
        return (.linearizable, totalSteps)
    }

    // MARK: - Per-key search

    enum KeyOutcome: Equatable {
        case linearizable
        case violation(String)
        case undecided
    }

    /// An operation of one key's sub-history, prepared for the search.
    struct RegisterOp {
        var invoke: Int
        /// `Int.max` when the operation never returned.
        var ret: Int
        var isPut: Bool
        /// Whether the operation returned (must be linearized) or not (a put that may be skipped).
        var completed: Bool
        /// Interned value: 0 is "absent", otherwise an index into the key's value table.
        var value: Int32
        /// Index of the operation in the key's sub-history (for explanations).
        var source: Int
    }

    /// Lowe's memo: the set of visited (linearized-ops bitset, register value) states, as a flat
    /// open-addressing hash table (no allocation per state). Hashing uses an incrementally
    /// maintained Zobrist key of the bitset; equality compares the bitset itself.
    struct VisitedSet {
        let wordCount: Int
        /// Per state: its bitset words then its value, `wordCount + 1` entries.
        var storage: [UInt64] = []
        var hashes: [UInt64] = []
        /// Slot → state index, or -1.
        var slots: [Int32]
        var count = 0

        init(wordCount: Int) {
            self.wordCount = wordCount
            slots = [Int32](repeating: -1, count: 1024)
        }

        /// Inserts the state; false if it was already present.
        mutating func insert(_ words: [UInt64], value: Int32, zobrist: UInt64) -> Bool {
            var h = zobrist ^ (UInt64(UInt32(bitPattern: value)) &* 0x9E37_79B9_7F4A_7C15)
            h = (h ^ (h >> 29)) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 32
            let stride = wordCount + 1
            var mask = slots.count - 1
            var slot = Int(truncatingIfNeeded: h) & mask
            while slots[slot] >= 0 {
                let index = Int(slots[slot])
                if hashes[index] == h {
                    let base = index * stride
                    var same = storage[base + wordCount] == UInt64(UInt32(bitPattern: value))
                    var w = 0
                    while same && w < wordCount {
                        same = storage[base + w] == words[w]
                        w += 1
                    }
                    if same { return false }
                }
                slot = (slot + 1) & mask
            }
            storage.append(contentsOf: words)
            storage.append(UInt64(UInt32(bitPattern: value)))
            hashes.append(h)
            slots[slot] = Int32(count)
            count += 1
            if count * 2 > slots.count {
                slots = [Int32](repeating: -1, count: slots.count * 2)
                mask = slots.count - 1
                for (index, hash) in hashes.enumerated() {
                    var s = Int(truncatingIfNeeded: hash) & mask
                    while slots[s] >= 0 { s = (s + 1) & mask }
                    slots[s] = Int32(index)
                }
            }
            return true
        }
    }

    /// Checks one key's sub-history; returns the outcome and the number of search steps.
    static func checkKey(_ history: [KVOperation], stepBudget: Int) -> (KeyOutcome, Int) {
        // Intern values in a deterministic order (sorted), 0 being "absent".
        var valueSet = Set<String>()
        for op in history {
            switch op.kind {
            case .put(_, let value): valueSet.insert(value)
            case .get(_, let observed): if let observed { valueSet.insert(observed) }
            }
        }
        let valueNames = valueSet.sorted()
        var valueIDs: [String: Int32] = [:]
        for (i, name) in valueNames.enumerated() { valueIDs[name] = Int32(i + 1) }

        var ops: [RegisterOp] = []
        for (source, op) in history.enumerated() {
            let ret = op.returnedAt.map { max($0, op.invokedAt) }
            switch op.kind {
            case .put(_, let value):
                ops.append(RegisterOp(invoke: op.invokedAt, ret: ret ?? Int.max, isPut: true,
                                      completed: ret != nil, value: valueIDs[value]!, source: source))
            case .get(_, let observed):
                guard let ret else { continue }  // a read that never returned says nothing
                ops.append(RegisterOp(invoke: op.invokedAt, ret: ret, isPut: false, completed: true,
                                      value: observed.map { valueIDs[$0]! } ?? 0, source: source))
            }
        }

        // Per value: the earliest invocation of a put writing it, and the latest response of a
        // read observing it.
        var firstPut = [Int](repeating: Int.max, count: valueNames.count + 1)
        var lastRead = [Int](repeating: Int.min, count: valueNames.count + 1)
        for op in ops {
            let v = Int(op.value)
            if op.isPut { firstPut[v] = min(firstPut[v], op.invoke) } else { lastRead[v] = max(lastRead[v], op.ret) }
        }

        // Fast, readable verdicts for reads that no put can explain.
        for read in ops where !read.isPut && read.value != 0 {
            let earliest = firstPut[Int(read.value)]
            if earliest == Int.max {
                return (.violation("\(describe(history[read.source])) observed a value that no put to this key wrote"), 0)
            }
            if read.ret < earliest {
                return (.violation("\(describe(history[read.source])) observed a value before any put writing it was invoked"), 0)
            }
        }

        // A put that never returned matters only if some read that may follow it observes its
        // value; otherwise "it never took effect" is always a valid choice, so drop it.
        ops.removeAll { $0.isPut && !$0.completed && lastRead[Int($0.value)] < $0.invoke }

        // Deterministic order: by invocation, then response, then content.
        ops.sort { a, b in
            if a.invoke != b.invoke { return a.invoke < b.invoke }
            if a.ret != b.ret { return a.ret < b.ret }
            if a.isPut != b.isPut { return a.isPut }
            if a.value != b.value { return a.value < b.value }
            return history[a.source].client < history[b.source].client
        }

        var search = KeySearch(ops: ops, budget: stepBudget)
        let outcome = search.run()
        switch outcome {
        case .violation:
            return (.violation(search.explanation(history: history, valueNames: valueNames)), search.steps)
        default:
            return (outcome, search.steps)
        }
    }

    /// The depth-first Wing–Gong search over one key, iterative so that long histories cannot
    /// exhaust the stack.
    struct KeySearch {
        let ops: [RegisterOp]
        let budget: Int
        let completedCount: Int

        var bits: [UInt64]
        /// Per-operation random keys (SplitMix64 from a fixed seed) and their XOR over `bits`.
        let zobristKeys: [UInt64]
        var zobrist: UInt64 = 0
        var value: Int32 = 0
        var remaining: Int
        var visited: VisitedSet
        var candidates: [Int32] = []
        var frames: [Frame] = []
        var steps = 0
        /// Scratch buffer for the minimal operations of the current state.
        var minimal: [Int32] = []

        // The deepest point reached, for the explanation.
        var bestDone = -1
        var bestValue: Int32 = 0
        var bestMinimal: [Int32] = []

        struct Frame {
            var start: Int
            var end: Int
            var pos: Int
            /// The candidate currently applied below this frame, or -1.
            var chosen: Int32
            /// Register value at this frame.
            var value: Int32
        }

        init(ops: [RegisterOp], budget: Int) {
            self.ops = ops
            self.budget = budget
            self.completedCount = ops.reduce(0) { $0 + ($1.completed ? 1 : 0) }
            self.remaining = completedCount
            self.bits = [UInt64](repeating: 0, count: (ops.count + 63) / 64)
            self.visited = VisitedSet(wordCount: bits.count)
            var seed: UInt64 = 0x5EED_0F_11_C4EC
            self.zobristKeys = ops.indices.map { _ in
                seed &+= 0x9E37_79B9_7F4A_7C15
                var z = seed
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                return z ^ (z >> 31)
            }
        }

        func isSet(_ i: Int) -> Bool { bits[i >> 6] & (1 << UInt64(i & 63)) != 0 }

        mutating func run() -> KeyOutcome {
            if remaining == 0 { return .linearizable }
            _ = visited.insert(bits, value: value, zobrist: zobrist)
            steps = 1
            if steps > budget { return .undecided }
            pushFrame()
            while !frames.isEmpty {
                let f = frames.count - 1
                if frames[f].chosen >= 0 {
                    let c = Int(frames[f].chosen)
                    bits[c >> 6] &= ~(1 << UInt64(c & 63))
                    zobrist ^= zobristKeys[c]
                    if ops[c].completed { remaining += 1 }
                    value = frames[f].value
                    frames[f].chosen = -1
                }
                if frames[f].pos == frames[f].end {
                    candidates.removeSubrange(frames[f].start...)
                    frames.removeLast()
                    continue
                }
                let c = Int(candidates[frames[f].pos])
                frames[f].pos += 1
                frames[f].chosen = Int32(c)
                let op = ops[c]
                bits[c >> 6] |= 1 << UInt64(c & 63)
                zobrist ^= zobristKeys[c]
                if op.completed { remaining -= 1 }
                if op.isPut { value = op.value }
                if remaining == 0 { return .linearizable }
                if !visited.insert(bits, value: value, zobrist: zobrist) { continue }
                steps += 1
                if steps > budget { return .undecided }
                pushFrame()
            }
            return .violation("")
        }

        /// Computes the candidates of the current state and pushes a frame for them.
        mutating func pushFrame() {
            // Minimal operations: not linearized, and invoked no later than the earliest response
            // among the operations not yet linearized. Ops are sorted by invocation, so the scan
            // can stop at the first op invoked after the running minimum response.
            minimal.removeAll(keepingCapacity: true)
            var minRet = Int.max
            var word = 0
            while word < bits.count && bits[word] == ~0 { word += 1 }
            var i = word < bits.count ? (word << 6) + (~bits[word]).trailingZeroBitCount : ops.count
            while i < ops.count {
                if !isSet(i) {
                    let op = ops[i]
                    if op.invoke > minRet { break }
                    minimal.append(Int32(i))
                    if op.ret < minRet { minRet = op.ret }
                }
                i += 1
            }
            let done = completedCount - remaining
            if done > bestDone {
                bestDone = done
                bestValue = value
                bestMinimal = minimal
            }
            let start = candidates.count
            // A minimal read that matches the register can be linearized first without loss
            // of generality (it changes nothing and nothing remaining must precede it), so it is
            // the only candidate. Otherwise only puts can move the search forward.
            if let read = minimal.first(where: { !ops[Int($0)].isPut && ops[Int($0)].value == value }) {
                candidates.append(read)
            } else {
                for m in minimal where ops[Int(m)].isPut { candidates.append(m) }
            }
            frames.append(Frame(start: start, end: candidates.count, pos: start, chosen: -1, value: value))
        }

        func explanation(history: [KVOperation], valueNames: [String]) -> String {
            let held = bestValue == 0 ? "absent" : String(reflecting: valueNames[Int(bestValue) - 1])
            let blocked = bestMinimal.map { ops[Int($0)] }
            let reads = blocked.filter { !$0.isPut }
            let puts = blocked.filter { $0.isPut }
            var listed = (reads + puts).prefix(4).map { describe(history[$0.source]) }.joined(separator: "; ")
            if blocked.count > 4 { listed += "; …" }
            return "no linearization: at most \(bestDone) of \(completedCount) completed operations can be ordered; "
                + "the key is then \(held) and no operation that may take effect next leads to a valid order "
                + "(\(listed))"
        }
    }

    /// "client 3 get→"x" [10, 14]" or "client 1 put "y" [2, ?]".
    static func describe(_ op: KVOperation) -> String {
        let interval = "[\(op.invokedAt), \(op.returnedAt.map(String.init) ?? "?")]"
        switch op.kind {
        case .put(_, let value):
            return "client \(op.client) put \(String(reflecting: value)) \(interval)"
        case .get(_, let observed):
            let shown = observed.map { String(reflecting: $0) } ?? "absent"
            return "client \(op.client) get→\(shown) \(interval)"
        }
    }
}
