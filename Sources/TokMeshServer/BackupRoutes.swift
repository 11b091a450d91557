// BackupRoutes: `/admin/v1/backups` (spec/04 §8.1, spec/02 §5.5 and §7) — take and list
// snapshots, download a snapshot file (streamed with sendfile, one HTTP Range, If-Range, ETag),
// and restore from a listed snapshot or an uploaded file as a job whose status can be polled.
// The uploaded or named file is checked (magic, header, trailer, key) before a job exists.
import Foundation
import NIOCore
import NIOHTTP1
import TokMeshCore
import TokMeshHTTP
import TokMeshStorage

enum BackupRoutes {
    static func routes(_ node: NodeContext) -> [(String, String, RouteSpec)] {
        let download = RouteSpec(
            access: .minimum(.admin), offload: true,
            audit: AuditSpec(action: { _ in "SNAPSHOT_DOWNLOADED" }, resource: { $0.parameter("snapshot_id") })
        ) { (call: RouteCall) throws(TokMeshError) -> RouteResult in
            try downloadFile(node, call)
        }
        return [
            ("POST", "/admin/v1/backups/snapshots", RouteSpec(
                access: .minimum(.admin), bodyFields: ["description"], longRunning: true,
                audit: AuditSpec(action: { _ in "SNAPSHOT_CREATED" }, resource: { _ in "snapshots" })
            ) { (call: RouteCall) throws(TokMeshError) -> RouteResult in
                let description = try call.body.string("description") ?? ""
                guard description.utf8.count <= 256 else { throw TokMeshError.invalid("description", "description must be at most 256 bytes") }
                let info = try SnapshotScheduler.take(node, trigger: "manual", description: description, now: node.clock.nowMillis())
                return RouteResult(.created, info.json, auditDetails: ["snapshot_id": .string(info.snapshotID)])
            }),
            ("GET", "/admin/v1/backups/snapshots", RouteSpec(access: .minimum(.admin), queryParameters: ["page", "size"], offload: true) { (call: RouteCall) throws(TokMeshError) -> RouteResult in
                let (page, size) = try call.query.paging(defaultSize: SessionLimits.listSizeDefault, maxSize: SessionLimits.listSizeMax)
                return RouteResult(.ok, AdminRoutes.list(node.snapshots.list().map { .object($0.json) }, page: page, size: size))
            }),
            ("GET", "/admin/v1/backups/snapshots/{snapshot_id}/file", download),
            ("HEAD", "/admin/v1/backups/snapshots/{snapshot_id}/file", download),
            ("POST", "/admin/v1/backups/restores", RouteSpec(
                access: .minimum(.admin), longRunning: true,
                audit: AuditSpec(action: { _ in "RESTORE_STARTED" }, resource: { _ in "restores" }), rawBody: true
            ) { (call: RouteCall) throws(TokMeshError) -> RouteResult in
                try startRestore(node, call)
            }),
            ("GET", "/admin/v1/backups/restores/{job_id}", RouteSpec(access: .minimum(.admin)) { (call: RouteCall) throws(TokMeshError) -> RouteResult in
                guard let job = node.restores.job(call.parameter("job_id")) else {
                    throw TokMeshError(.adminNotFound, "Restore job not found", details: ["job_id": .string(JSONBody.printable(call.parameter("job_id")))])
                }
                return RouteResult(.ok, job.json)
            }),
        ]
    }

    static func notFound(_ id: String) -> TokMeshError {
        TokMeshError(.adminNotFound, "Snapshot not found", details: ["snapshot_id": .string(JSONBody.printable(id))])
    }

    /// `GET|HEAD backups/snapshots/{id}/file`: the stored file, never read into memory.
    static func downloadFile(_ node: NodeContext, _ call: RouteCall) throws(TokMeshError) -> RouteResult {
        let id = call.parameter("snapshot_id")
        guard let path = node.snapshots.path(of: id) else { throw notFound(id) }
        // Snapshot files never change once renamed into place, so size and trailer stay valid.
        guard let (_, size, trailer) = try? SnapshotFile.peek(path: path) else {
            throw TokMeshError(.adminFailed, "the snapshot file cannot be read")
        }
        let handle: NIOFileHandle
        do { handle = try NIOFileHandle(_deprecatedPath: path) } catch { throw notFound(id) }
        let etag = "\"\(Identifiers.hex(trailer))\""
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/octet-stream")
        headers.add(name: "Accept-Ranges", value: "bytes")
        headers.add(name: "ETag", value: etag)
        headers.add(name: "Content-Disposition", value: "attachment; filename=\"\(id).snap\"")
        headers.add(name: "Cache-Control", value: "no-store")
        headers.add(name: "X-Content-Type-Options", value: "nosniff")
        let range = ByteRange.resolve(range: call.request.headers.first(name: "range"), ifRange: call.request.headers.first(name: "if-range"),
                                      size: size, etag: etag)
        var result: RouteResult
        switch range {
        case .whole:
            result = RouteResult(raw: ServerResponse(status: .ok, headers: headers, file: FileBody(handle: handle, offset: 0, length: size)),
                                 auditDetails: ["snapshot_id": .string(id), "size_bytes": .int(Int64(size))])
        case .partial(let first, let last):
            headers.add(name: "Content-Range", value: "bytes \(first)-\(last)/\(size)")
            result = RouteResult(raw: ServerResponse(status: .partialContent, headers: headers,
                                                     file: FileBody(handle: handle, offset: first, length: last - first + 1)),
                                 auditDetails: ["snapshot_id": .string(id), "range": .string("\(first)-\(last)")])
            // Audited once per download: the response that starts at byte 0 (spec/04 §8.1).
            result.skipAudit = first != 0
        case .unsatisfiable:
            try? handle.close()
            headers.add(name: "Content-Range", value: "bytes */\(size)")
            result = RouteResult(raw: ServerResponse(status: .rangeNotSatisfiable, headers: headers))
            result.skipAudit = true
        }
        if call.request.method == .HEAD { result.skipAudit = true }
        return result
    }

    /// `POST backups/restores`: JSON `{snapshot_id, restore_keys?}` or multipart `file`
    /// (+ `restore_keys`). Everything is checked before the job exists.
    static func startRestore(_ node: NodeContext, _ call: RouteCall) throws(TokMeshError) -> RouteResult {
        var snapshotID: String?
        var upload: [UInt8]?
        var restoreKeys = false
        let contentType = call.request.headers.first(name: "content-type") ?? ""
        if contentType.lowercased().hasPrefix("multipart/") {
            guard let boundary = MultipartForm.boundary(contentType: contentType) else {
                throw TokMeshError.malformed(nil, "multipart/form-data needs a boundary")
            }
            let parts: [MultipartPart]
            do { parts = try MultipartForm.parse(call.request.body, boundary: boundary) } catch {
                throw TokMeshError.malformed(nil, "malformed multipart body: \(error.reason)")
            }
            for part in parts {
                switch part.name {
                case "file":
                    guard upload == nil else { throw TokMeshError.malformed("file", "duplicate part file") }
                    upload = part.data
                case "restore_keys":
                    switch String(decoding: part.data, as: UTF8.self).trimmingWhitespace() {
                    case "true": restoreKeys = true
                    case "false": restoreKeys = false
                    default: throw TokMeshError.invalid("restore_keys", "restore_keys must be true or false")
                    }
                case "snapshot_id":
                    snapshotID = String(decoding: part.data, as: UTF8.self)
                default:
                    throw TokMeshError.malformed(JSONBody.printable(part.name), "unknown part \(JSONBody.printable(part.name))")
                }
            }
        } else {
            let body = try JSONBody(bytes: call.request.body, allowed: ["snapshot_id", "restore_keys"])
            snapshotID = try body.string("snapshot_id")
            restoreKeys = try body.bool("restore_keys") ?? false
        }
        if snapshotID != nil && upload != nil {
            throw TokMeshError(.argConflict, "Give either snapshot_id or an uploaded file, not both", details: ["field": "snapshot_id"])
        }
        let bytes: [UInt8]
        if let snapshotID {
            guard let path = node.snapshots.path(of: snapshotID), let data = try? SnapshotFile.readAll(path: path) else {
                throw notFound(snapshotID)
            }
            bytes = data
        } else if let upload {
            bytes = upload
        } else {
            throw TokMeshError.missing("snapshot_id")
        }
        do {
            _ = try node.snapshots.checkUsable(bytes)
        } catch .wrongKey {
            let header = try? SnapshotFile.readHeader(bytes)
            throw TokMeshError(.adminBackupUnusable, "The backup is encrypted under another key", details: [
                "file_key_fingerprint": .string(header.map { Identifiers.hex($0.keyFingerprint) } ?? ""),
                "node_key_fingerprint": .string(node.snapshots.fingerprint.map(Identifiers.hex) ?? ""),
            ])
        } catch {
            throw TokMeshError(.adminBackupUnusable, "The file is not a usable TokMesh backup", details: ["reason": .string("\(error)")])
        }
        guard let job = node.restores.begin(snapshotID: snapshotID ?? "", now: node.clock.nowMillis()) else {
            throw TokMeshError(.adminConflict, "a restore is already pending or running")
        }
        node.restores.start(job, bytes: bytes, restoreKeys: restoreKeys, requestedBy: call.principal.keyID, node: node)
        return RouteResult(.accepted, job.json, auditDetails: ["job_id": .string(job.jobID), "snapshot_id": .string(job.snapshotID),
                                                               "restore_keys": .bool(restoreKeys)])
    }
}
