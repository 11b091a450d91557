// Tests of the log engine's file side (spec/02 §3): create, append, reopen and replay, rotation,
// reading from any index, a torn tail in the newest segment, corruption in an older one, and
// a wrong key.
import Foundation
import Testing
@testable import TokMeshStorage

@Suite struct SegmentedLogTests {
    static let key: [UInt8] = (0..<32).map { UInt8($0) }
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tmlog-\(UUID().uuidString)").path

    func options(segmentBytes: Int = 64 * 1024 * 1024, key: [UInt8]? = SegmentedLogTests.key, cipher: CipherID = .aes256GCM) -> LogOptions {
        LogOptions(directory: directory, kind: .wal, prefix: "wal", masterKey: key, cipher: cipher, segmentBytesMax: segmentBytes, knownTypes: [1, 2])
    }

    func openAndCollect(_ o: LogOptions) throws -> (SegmentedLog, LogOpenReport, [LogRecord]) {
        var seen: [LogRecord] = []
        let (log, report) = try SegmentedLog.open(o) { seen.append($0) }
        return (log, report, seen)
    }

    func payload(_ i: Int) -> [UInt8] { Array("payload-\(i)".utf8) + [UInt8](repeating: UInt8(i & 0xFF), count: i % 300) }

    func files() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted() }

    @Test("append, close, reopen: every record replays in order and a new segment starts")
    func reopen() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (log, report, seen) = try openAndCollect(options())
        #expect(seen.isEmpty && report == LogOpenReport() && log.nextIndex == 1)
        #expect(try log.append((0..<100).map { (type: UInt8($0 % 2 + 1), payload: payload($0)) }) == 1...100)
        try log.sync()
        try log.close()
        let (again, report2, replayed) = try openAndCollect(options())
        #expect(replayed.map(\.index) == Array(1...100) && replayed[42].payload == payload(42) && report2.lastIndex == 100)
        #expect(again.nextIndex == 101)
        #expect(files() == ["wal-00000001.log", "wal-00000002.log"])
        try again.close()
    }

    @Test("rotation keeps segments under their size and reads work from any index", arguments: [CipherID.aes256GCM, .chaCha20Poly1305])
    func rotationAndRead(cipher: CipherID) throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (log, _, _) = try openAndCollect(options(segmentBytes: 4096, cipher: cipher))
        for batch in 0..<20 { try log.append((0..<10).map { (type: 1, payload: payload(batch * 10 + $0)) }) }
        try log.close()
        #expect(files().count > 5)
        for name in files() {
            let size = try FileManager.default.attributesOfItem(atPath: directory + "/" + name)[.size] as! Int
            #expect(size <= 4096 + 400, "\(name) is \(size) bytes")
        }
        var from137: [UInt64] = []
        try log.read(from: 137) { from137.append($0.index); return from137.count < 5 }
        #expect(from137 == [137, 138, 139, 140, 141])
        let (_, report, replayed) = try openAndCollect(options(segmentBytes: 4096, cipher: cipher))
        #expect(replayed.count == 200 && report.tornTails.isEmpty && report.corruption == nil)
    }

    @Test("spec/02 §3.6: a torn tail in the newest segment is truncated with a report naming segment and offset")
    func tornTail() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (log, _, _) = try openAndCollect(options())
        try log.append((0..<10).map { (type: 1, payload: payload($0)) })
        try log.close()
        let path = directory + "/wal-00000001.log"
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        #expect(truncate(path, off_t(size - 3)) == 0)
        let (again, report, replayed) = try openAndCollect(options())
        #expect(replayed.count == 9 && report.lastIndex == 9 && again.nextIndex == 10)
        #expect(report.tornTails.count == 1 && report.tornTails[0].segment == "wal-00000001.log" && report.tornTails[0].offset > 80)
        #expect(report.corruption == nil)
        try again.append([(type: 1, payload: [1])])
        try again.close()
        let (_, _, afterRepair) = try openAndCollect(options())
        #expect(afterRepair.map(\.index) == Array(1...10))
    }

    @Test("spec/02 §3.6: a flipped byte in an older segment keeps the prefix and sets the rest aside")
    func corruption() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (log, _, _) = try openAndCollect(options(segmentBytes: 4096))
        for batch in 0..<10 { try log.append((0..<10).map { (type: 1, payload: payload(batch * 10 + $0)) }) }
        try log.close()
        let segments = files()
        #expect(segments.count >= 3)
        let victim = directory + "/" + segments[1]
        var bytes = [UInt8](FileManager.default.contents(atPath: victim)!)
        bytes[bytes.count / 2] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: victim))
        let (again, report, replayed) = try openAndCollect(options(segmentBytes: 4096))
        let damage = try #require(report.corruption)
        #expect(damage.segment == segments[1] && damage.offset > 80 && damage.offset < bytes.count / 2)
        #expect(replayed.map(\.index) == Array(1...UInt64(replayed.count)) && report.lastIndex == UInt64(replayed.count))
        #expect(report.setAside.contains(segments[1] + ".corrupt") && report.setAside.contains(segments[2] + ".corrupt"))
        #expect(files().contains(segments[2] + ".corrupt"))
        // The new segment continues the numbering right after the intact prefix.
        let fresh = try SegmentHeader.decode([UInt8](FileManager.default.contents(atPath: directory + "/" + segments[2])!))
        #expect(fresh.firstIndex == UInt64(replayed.count) + 1)
        #expect(again.nextIndex == UInt64(replayed.count) + 1)
        try again.close()
    }

    /// Copies the log directory to a fresh one (a second, independent opening of the same files).
    func copyOfDirectory() throws -> String {
        let copy = directory + "-copy-\(UUID().uuidString.prefix(8))"
        try FileManager.default.copyItem(atPath: directory, toPath: copy)
        return copy
    }

    @Test("reading ahead changes nothing: open with a prescan (current or stale) replays, reports and repairs as open without one",
          arguments: ["clean", "torn tail", "flipped byte", "gap", "stale: grew", "stale: shrank"])
    func prescanIsOnlyACache(damage: String) throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (log, _, _) = try openAndCollect(options(segmentBytes: 4096))
        for batch in 0..<12 { try log.append((0..<10).map { (type: 1, payload: payload(batch * 10 + $0)) }) }
        try log.close()
        let segments = files()
        #expect(segments.count >= 4)
        func path(_ n: Int) -> String { directory + "/" + segments[n] }
        var ahead = SegmentedLog.prescan(options(segmentBytes: 4096), budgetBytes: 1 << 30)
        switch damage {
        case "torn tail":
            let size = try FileManager.default.attributesOfItem(atPath: path(segments.count - 2))[.size] as! Int
            #expect(truncate(path(segments.count - 2), off_t(size - 5)) == 0)
            try FileManager.default.removeItem(atPath: path(segments.count - 1))
            ahead = SegmentedLog.prescan(options(segmentBytes: 4096), budgetBytes: 1 << 30)
        case "flipped byte":
            var bytes = [UInt8](FileManager.default.contents(atPath: path(1))!)
            bytes[bytes.count / 2] ^= 0x10
            try Data(bytes).write(to: URL(fileURLWithPath: path(1)))
            ahead = SegmentedLog.prescan(options(segmentBytes: 4096), budgetBytes: 1 << 30)
        case "gap":
            try FileManager.default.removeItem(atPath: path(2))
            ahead = SegmentedLog.prescan(options(segmentBytes: 4096), budgetBytes: 1 << 30)
        case "stale: grew":
            // Written to after the prescan: the newest segment's size no longer matches.
            let (more, _, _) = try openAndCollect(options(segmentBytes: 1 << 20))
            try more.append((0..<3).map { (type: 2, payload: payload($0)) })
            try more.close()
        case "stale: shrank":
            let size = try FileManager.default.attributesOfItem(atPath: path(0))[.size] as! Int
            #expect(truncate(path(0), off_t(size - 1)) == 0)
        default:
            break
        }
        #expect(!ahead.scans.isEmpty)
        let twin = try copyOfDirectory()
        defer { try? FileManager.default.removeItem(atPath: twin) }
        var plain: [LogRecord] = [], cached: [LogRecord] = []
        let (a, reportA) = try SegmentedLog.open(options(segmentBytes: 4096)) { plain.append($0) }
        var twinOptions = options(segmentBytes: 4096)
        twinOptions.directory = twin
        let (b, reportB) = try SegmentedLog.open(twinOptions, prescanned: ahead) { cached.append($0) }
        #expect(plain == cached && reportA == reportB && a.nextIndex == b.nextIndex)
        switch damage {
        case "torn tail": #expect(reportA.tornTails.count == 1)
        case "flipped byte", "gap", "stale: shrank": #expect(reportA.corruption != nil)
        case "stale: grew": #expect(plain.count == 123)
        default: #expect(plain.count == 120 && reportA == LogOpenReport(lastIndex: 120))
        }
        let filesA = files().filter { !$0.hasSuffix(".log") || $0 < segments.last! }
        let filesB = ((try? FileManager.default.contentsOfDirectory(atPath: twin)) ?? []).sorted().filter { !$0.hasSuffix(".log") || $0 < segments.last! }
        #expect(filesA == filesB)
        try a.close()
        try b.close()
    }

    @Test("WALPrefetch decodes every create and update ahead, by index; anything else is left to replay")
    func prefetchImages() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var o = options(segmentBytes: 4096)
        o.knownTypes = WALRecord.knownTypes
        let (log, _) = try SegmentedLog.open(o) { _ in }
        let sessions = (0..<40).map { makeSession($0, user: "u\($0 % 3)") }
        var records: [WALRecord] = sessions.map { .create(time: $0.createdAt, session: $0) }
        records.insert(.delete(time: 5, sessionID: sessions[3].id, reason: .expired), at: 10)
        records.append(.update(time: 9, session: sessions[7]))
        try log.append(records.map { (type: $0.type, payload: $0.encoded()) })
        try log.close()
        let (prescan, images) = WALPrefetch(o).wait()
        #expect(prescan.scans.count == files().count)
        for (i, record) in records.enumerated() {
            let image = images.image(at: UInt64(i + 1))
            switch record {
            case .create(let time, let s), .update(let time, let s):
                #expect(image?.time == time && image?.session.blob == StoredSession(s)?.blob)
            default:
                #expect(image == nil)
            }
        }
        #expect(images.image(at: 0) == nil && images.image(at: UInt64(records.count + 1)) == nil)
        // A budget smaller than the first segment reads nothing ahead.
        let (none, noImages) = WALPrefetch(o, budgetBytes: 10).wait()
        #expect(none.scans.isEmpty && noImages.image(at: 1) == nil)
    }

    @Test("an encrypted log under another key is refused, not misread")
    func wrongKey() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (log, _, _) = try openAndCollect(options())
        try log.append([(type: 1, payload: Array("secret-marker".utf8))])
        try log.close()
        let raw = try String(contentsOfFile: directory + "/wal-00000001.log", encoding: .isoLatin1)
        #expect(!raw.contains("secret-marker"))
        #expect(throws: LogError.self) { _ = try openAndCollect(options(key: [UInt8](repeating: 7, count: 32))) }
    }
}
