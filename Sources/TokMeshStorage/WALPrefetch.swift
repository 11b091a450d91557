// WALPrefetch: recovery's read-ahead of the session WAL. While the snapshot is read and loaded,
// another thread reads and scans the segments (`SegmentedLog.prescan`: CRC, decryption) and
// decodes every create/update record into its packed post-image, so that replay afterwards
// only applies them. Nothing here decides anything: `SegmentedLog.open` still checks every
// segment and replays in index order, taking from here what was already done.
import Dispatch
import TokMeshCore

public final class WALPrefetch: @unchecked Sendable {
    /// Segment bytes read ahead at most (the rest is read during replay, as without this).
    public static let budgetBytes = 256 << 20

    /// Post-images by record index, from `first` on (nil: not a create/update, or undecodable).
    public struct Images: Sendable {
        var first: UInt64 = 0
        var entries: [(index: UInt64, time: Int64, session: StoredSession)?] = []

        /// The decoded post-image of record `index`, if it was decoded ahead.
        public func image(at index: UInt64) -> (time: Int64, session: StoredSession)? {
            guard index >= first, index - first < UInt64(entries.count), let e = entries[Int(index - first)], e.index == index else { return nil }
            return (e.time, e.session)
        }
    }

    private let done = DispatchSemaphore(value: 0)
    // Written by the worker before it signals `done`, read after `wait`.
    private var prescan = SegmentedLog.Prescan()
    private var images = Images()

    /// Starts reading `options`' segments on a new thread.
    public init(_ options: LogOptions, budgetBytes: Int = WALPrefetch.budgetBytes) {
        DispatchQueue.global(qos: .userInitiated).async { [self] in
            prescan = SegmentedLog.prescan(options, budgetBytes: budgetBytes)
            let scans = prescan.scans.values.map(\.scan).sorted { $0.header.firstIndex < $1.header.firstIndex }
            if let first = scans.first?.records.first?.index {
                images.first = first
                images.entries.reserveCapacity(scans.reduce(0) { $0 + $1.records.count })
                outer: for scan in scans {
                    for record in scan.records {
                        // Only a gap-free run of indexes is kept (what open will accept anyway).
                        guard record.index == first + UInt64(images.entries.count) else { break outer }
                        images.entries.append(WALRecord.decodePostImage(type: record.type, payload: record.payload)
                            .map { (record.index, $0.time, $0.session) })
                    }
                }
            }
            done.signal()
        }
    }

    /// Waits for the worker; returns what it read and decoded.
    public func wait() -> (SegmentedLog.Prescan, Images) {
        done.wait()
        return (prescan, images)
    }
}
