// LocalRoutes: `/health`, `/ready` (open, HEAD too) and the local-socket-only routes of
// spec/04 §10: the emergency admin key and the graceful shutdown.
import NIOHTTP1
import TokMeshAuth
import TokMeshCore
import TokMeshService

enum LocalRoutes {
    static let shutdownGraceSecondsMax: Int64 = 300

    static func routes(_ node: NodeContext) -> [(String, String, RouteSpec)] {
        let health = RouteSpec(access: .open, servedWhenNotReady: true) { _ throws(TokMeshError) -> RouteResult in
            RouteResult(.ok, ["status": "healthy", "timestamp": .int(node.clock.nowMillis())])
        }
        let ready = RouteSpec(access: .open, servedWhenNotReady: true) { _ throws(TokMeshError) -> RouteResult in
            // spec/02 §3.5: a failed log makes the node unready until a restart.
            let storage = node.storageState
            let isReady = node.ready.load(ordering: .relaxed) && storage == "ok"
            let lifecycle = node.stopping.load(ordering: .relaxed) ? "shutting_down" : node.started.load(ordering: .relaxed) ? "running" : "starting"
            let checks: JSONObject = ["lifecycle": .string(lifecycle), "session_engine": "ok", "storage": .string(storage),
                                      "listeners": .string(node.started.load(ordering: .relaxed) ? "ok" : "starting"),
                                      "audit": .string(node.audit.droppedCount == 0 ? "ok" : "dropping")]
            guard isReady else {
                throw TokMeshError(.sysUnavailable, "Node is not ready", details: ["checks": .object(checks)], headers: [("Retry-After", "1")])
            }
            return RouteResult(.ok, ["status": "ready", "checks": .object(checks)])
        }
        return [
            ("GET", "/health", health), ("HEAD", "/health", health),
            ("GET", "/ready", ready), ("HEAD", "/ready", ready),
            ("POST", "/local/v1/emergency-keys", RouteSpec(
                access: .localOnly, bodyFields: ["description"], offload: true,
                audit: AuditSpec(action: { _ in "EMERGENCY_KEY_CREATED" }, resource: { _ in "keys" })
            ) { (call: RouteCall) throws(TokMeshError) -> RouteResult in
                let created = try node.keys.createEmergency(description: try call.body.string("description"))
                return RouteResult(.created, [
                    "key_id": .string(created.key.keyID), "key_secret": .string(created.secret),
                    "created_at": .int(created.key.createdAt), "warning": .string(created.warning ?? ""),
                ], auditDetails: ["key_id": .string(created.key.keyID)])
            }),
            ("POST", "/local/v1/shutdown", RouteSpec(
                access: .localOnly, bodyFields: ["grace_seconds"],
                audit: AuditSpec(action: { _ in "NODE_SHUTDOWN" }, resource: { _ in node.nodeID }), servedWhenNotReady: true
            ) { (call: RouteCall) throws(TokMeshError) -> RouteResult in
                let grace = try call.body.int("grace_seconds") ?? node.config.shutdownGraceMillis / 1000
                guard (0...shutdownGraceSecondsMax).contains(grace) else { throw TokMeshError.invalid("grace_seconds", "grace_seconds must be 0-300") }
                node.shutdownRequest(grace * 1000)
                return RouteResult(.accepted, ["status": "shutting_down", "grace_seconds": .int(grace)])
            }),
        ]
    }
}
