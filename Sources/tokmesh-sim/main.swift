// tokmesh-sim: runs the deterministic simulators from the command line (`Scripts/sim`).
//   tokmesh-sim raft --seed S                  one seed, with its report
//   tokmesh-sim raft --seeds N [--first-seed S] N consecutive seeds; failures print their seed
// Options: --nodes N (3), --duration-ms MS (60000), --faults all|crash-only, --mutation RULE (vote-log-check,
// commit-current-term, append-term-check, persist-before-send) to run with one rule disabled.
// Prints seeds/s, the worst linearizability check, the time to elect a leader after a leader's
// crash and the commit latency in ticks. Exit 1 when any seed finds a violation (0 with
// --mutation when one was found, as the teeth test expects).
import TokMeshRaft
import TokMeshSimulation

#if canImport(Glibc)
import Glibc
#endif

func fail(_ text: String) -> Never {
    let line = Array((text + "\n").utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(64)
}

var arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.first == "raft" else { fail("usage: tokmesh-sim raft (--seed S | --seeds N [--first-seed S]) [--nodes N] [--duration-ms MS] [--mutation RULE]") }
arguments.removeFirst()
var single: UInt64?
var count = 1
var first: UInt64 = 1
var options = RaftSimulationOptions()
var mutation: String?
while !arguments.isEmpty {
    let flag = arguments.removeFirst()
    guard let value = arguments.first else { fail("\(flag) needs a value") }
    arguments.removeFirst()
    switch flag {
    case "--seed": single = UInt64(value) ?? { fail("--seed: not a number") }()
    case "--seeds": count = Int(value) ?? { fail("--seeds: not a number") }()
    case "--first-seed": first = UInt64(value) ?? { fail("--first-seed: not a number") }()
    case "--nodes": options.nodes = Int(value).flatMap { (3...7).contains($0) ? $0 : nil } ?? { fail("--nodes: 3-7") }()
    case "--duration-ms": options.durationMillis = Int(value).flatMap { $0 >= 12_000 ? $0 : nil } ?? { fail("--duration-ms: at least 12000") }()
    case "--faults":
        // `crash-only`: crashes on a clean network with a fixed membership, to study election
        // time (issue 6 item 4).
        guard value == "crash-only" || value == "all" else { fail("--faults: all or crash-only") }
        if value == "crash-only" {
            options.lossPercent = 0
            options.duplicatePercent = 0
            options.slowPercent = 0
            options.partitionPercent = 0
            options.transferPercent = 0
            // A fixed membership: with two voters left by a change, a crashed leader can only be
            // replaced once it restarts, which measures restarts rather than elections.
            options.membershipPercent = 0
            options.crashPercent = 30
        }
    case "--mutation":
        mutation = value
        options = RaftSimulationOptions.mutationHunt(options)
        switch value {
        case "vote-log-check": options.rules.voteChecksLog = false
        case "commit-current-term": options.rules.commitOnlyCurrentTerm = false
        case "append-term-check": options.rules.appendChecksTerm = false
        case "persist-before-send": options.persistBeforeSend = false
        case "none": break  // the hunt's harsher faults with every rule on: must stay clean
        default: fail("--mutation: vote-log-check, commit-current-term, append-term-check, persist-before-send or none")
        }
    default: fail("unknown flag \(flag)")
    }
}

options.checkLinearizability = false  // checked below, with a clock
let seeds: [UInt64] = single.map { [$0] } ?? (0..<UInt64(count)).map { first + $0 }
let clock = ContinuousClock()
let started = clock.now
var failures: [UInt64] = []
var electionMillis: [Int] = [], commitMillis: [Int] = []
var worstCheck: (steps: Int, seed: UInt64) = (0, 0)
var worstCheckTime: (duration: Duration, seed: UInt64) = (.zero, 0)
var operations = 0, completed = 0, undecided = 0, membershipChanges = 0, snapshotsTaken = 0, snapshotsInstalled = 0
for seed in seeds {
    var simulation = RaftSimulation(seed: seed, options: options)
    var report = simulation.run()
    let checkStart = clock.now
    (report.linearizability, report.checkSteps) = LinearizabilityChecker.checkWithStats(report.history)
    let checkTime = clock.now - checkStart
    if checkTime > worstCheckTime.duration { worstCheckTime = (checkTime, seed) }
    operations += report.operations
    membershipChanges += report.membershipChanges
    snapshotsTaken += report.snapshotsTaken
    snapshotsInstalled += report.snapshotsInstalled
    completed += report.completedOperations
    electionMillis += report.electionMillis
    commitMillis += report.commitMillis
    if report.checkSteps > worstCheck.steps { worstCheck = (report.checkSteps, seed) }
    if case .undecided = report.linearizability { undecided += 1 }
    var problems = report.violations
    if case .violation(let key, let explanation) = report.linearizability { problems.append("linearizability (key \(key)): \(explanation)") }
    // Under a mutation only safety counts: a broken driver may also stall.
    if mutation == nil { problems += report.livenessFailures.map { "liveness: \($0)" } }
    if !problems.isEmpty {
        failures.append(seed)
        print("seed \(seed): FAILED — replay with Scripts/sim raft --seed \(seed)\(mutation.map { " --mutation \($0)" } ?? "")")
        for p in problems.prefix(5) { print("  \(p)") }
    } else if single != nil {
        print("seed \(seed): ok — \(report.events) events, \(report.operations) operations (\(report.completedOperations) completed), \(report.committedEntries) entries committed")
    }
}
let seconds = Double((clock.now - started).components.seconds) + Double((clock.now - started).components.attoseconds) / 1e18

func percentile(_ values: [Int], _ p: Double) -> String {
    guard !values.isEmpty else { return "-" }
    let sorted = values.sorted()
    return String(sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p))])
}

print("raft: seeds=\(seeds.count) failures=\(failures.count) seeds/s=\(String(Int(Double(seeds.count) / max(seconds, 0.001)))) "
      + "operations=\(operations) completed=\(completed) membership-changes=\(membershipChanges) "
      + "snapshots-taken=\(snapshotsTaken) snapshots-installed=\(snapshotsInstalled) undecided-checks=\(undecided)")
let worstMicros = worstCheckTime.duration.components.seconds * 1_000_000 + worstCheckTime.duration.components.attoseconds / 1_000_000_000_000
print("raft: worst linearizability check: \(worstMicros) µs (seed \(worstCheckTime.seed)); most search steps \(worstCheck.steps) (seed \(worstCheck.seed))")
print("raft: election after a leader crash (simulated ms): n=\(electionMillis.count) median=\(percentile(electionMillis, 0.5)) p90=\(percentile(electionMillis, 0.9)) max=\(percentile(electionMillis, 1))")
func ticks(_ values: [Int], _ p: Double, tickMillis: Int) -> String {
    guard !values.isEmpty else { return "-" }
    let sorted = values.sorted()
    let hundredths = sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p))] * 100 / tickMillis
    return "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)"
}
print("raft: commit latency (ticks of \(options.tickMillis) ms): n=\(commitMillis.count) median=\(ticks(commitMillis, 0.5, tickMillis: options.tickMillis)) p99=\(ticks(commitMillis, 0.99, tickMillis: options.tickMillis))")
if mutation != nil {
    print(failures.isEmpty ? "raft: mutation \(mutation!) NOT detected" : "raft: mutation \(mutation!) detected by seed \(failures[0])")
    exit((failures.isEmpty) == (mutation != "none") ? 1 : 0)
}
exit(failures.isEmpty ? 0 : 1)
