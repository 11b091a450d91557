// The Raft simulator in CI (issue 6): a few hundred seeds with faults and clients, no safety
// violation and linearizable histories; the mutation ("teeth") test switches one rule off at a
// time and expects a violation within a bounded number of seeds; the same seed gives the same
// run. Failures print the seed: `Scripts/sim raft --seed S` replays it.
import Testing
@testable import TokMeshRaft
@testable import TokMeshSimulation

@Suite struct RaftSimulationTests {
    static func options(durationMillis: Int = 20_000) -> RaftSimulationOptions {
        var o = RaftSimulationOptions()
        o.durationMillis = durationMillis
        o.settleMillis = 8_000
        return o
    }

    @Test("seeded runs: no safety violation, linearizable histories, a leader after healing", arguments: [3, 5])
    func seeds(nodes: Int) {
        var o = Self.options()
        o.nodes = nodes
        let count = nodes == 3 ? 300 : 200
        var completed = 0
        for seed in UInt64(1)...UInt64(count) {
            var sim = RaftSimulation(seed: seed, options: o)
            let report = sim.run()
            completed += report.completedOperations
            #expect(report.violations.isEmpty && report.livenessFailures.isEmpty,
                    "seed \(seed) (\(nodes) nodes): \((report.violations + report.livenessFailures).prefix(3)) — Scripts/sim raft --seed \(seed) --nodes \(nodes)")
            if case .violation(let key, let why) = report.linearizability {
                Issue.record("seed \(seed) (\(nodes) nodes): not linearizable on \(key): \(why)")
            }
        }
        #expect(completed > count * 20, "clients made progress")
    }

    @Test("the same seed gives the same run")
    func deterministic() {
        var a = RaftSimulation(seed: 77, options: Self.options())
        var b = RaftSimulation(seed: 77, options: Self.options())
        let ra = a.run(), rb = b.run()
        #expect(ra.events == rb.events && ra.operations == rb.operations && ra.committedEntries == rb.committedEntries)
        #expect(ra.electionMillis == rb.electionMillis && ra.commitMillis == rb.commitMillis)
    }

    @Test("teeth: each disabled rule is caught within a bounded number of seeds",
          arguments: ["vote-log-check", "append-term-check", "persist-before-send"])
    func mutation(rule: String) {
        var o = RaftSimulationOptions.mutationHunt(Self.options())
        switch rule {
        case "vote-log-check": o.rules.voteChecksLog = false
        case "commit-current-term": o.rules.commitOnlyCurrentTerm = false
        case "append-term-check": o.rules.appendChecksTerm = false
        default: o.persistBeforeSend = false
        }
        var found: UInt64?
        for seed in UInt64(1)...400 {
            var sim = RaftSimulation(seed: seed, options: o)
            if !sim.run().safe {
                found = seed
                break
            }
        }
        #expect(found != nil, "disabling \(rule) went unnoticed for 400 seeds")
    }
}
