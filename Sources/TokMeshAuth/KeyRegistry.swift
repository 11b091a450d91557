// KeyRegistry: the node's applied copy of the API keys (spec/03 §2). Admin operations change it;
// authentication reads it. Every change bumps the key's `version`, which invalidates cached
// verifications. Until the control plane (Raft, issue 6) exists this is the authority.
import Synchronization
import TokMeshCore

public final class KeyRegistry: Sendable {
    private let keys = Mutex<[String: APIKey]>([:])
    private let changes = Atomic<UInt64>(0)

    public init() {}

    /// Bumped by every insert and update (not by `markUsed`): a reader holding a copy of a key
    /// from the same generation holds the current record.
    public var generation: UInt64 { changes.load(ordering: .acquiring) }

    public func get(_ keyID: String) -> APIKey? { keys.withLock { $0[keyID] } }

    public func insert(_ key: APIKey) {
        keys.withLock { map in
            precondition(map[key.keyID] == nil, "API key inserted twice")
            map[key.keyID] = key
            changes.wrappingAdd(1, ordering: .releasing)
        }
    }

    /// Applies `change` to a key and bumps its version; TM-ADMIN-4041 if unknown.
    @discardableResult
    public func update(_ keyID: String, _ change: (inout APIKey) -> Void) throws(TokMeshError) -> APIKey {
        let updated: APIKey? = keys.withLock { map in
            guard var key = map[keyID] else { return nil }
            change(&key)
            key.version += 1
            map[keyID] = key
            changes.wrappingAdd(1, ordering: .releasing)
            return key
        }
        guard let updated else { throw TokMeshError(.adminNotFound, "API key not found", details: ["key_id": .string(keyID)]) }
        return updated
    }

    /// Advisory `last_used_at`; no version change (it drives no cache decision).
    public func markUsed(_ keyID: String, at now: Int64) {
        keys.withLock { map in
            guard var key = map[keyID], now - key.lastUsedAt >= 1000 else { return }
            key.lastUsedAt = now
            map[keyID] = key
        }
    }

    public func all() -> [APIKey] { keys.withLock { Array($0.values) } }
}
