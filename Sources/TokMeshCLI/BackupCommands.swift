// BackupCommands: `tokmesh-cli backup …` (spec/09 §8.5, admin) — snapshot (spinner), list,
// download (HEAD, then GET with Range/If-Range into `<path>.part` under a progress bar, resumed
// by the next run, checked against the file's SHA-256 trailer = the ETag, then renamed),
// restore by snapshot ID or uploaded file (confirmation, then the job polled each second under
// a spinner showing its progress and message) and status.
import ArgumentParser
import Crypto
import Foundation
import TokMeshCore

struct BackupCommand: CLIRunnable {
    static let configuration = CommandConfiguration(
        commandName: "backup", abstract: "Snapshots and restores (admin): snapshot, list, download, restore, status.",
        subcommands: [BackupSnapshot.self, BackupList.self, BackupDownload.self, BackupRestore.self, BackupStatus.self])

    static func jobDetails(_ j: JSONObject, output: Output) {
        output.details(nil, [("Job ID", output.id(j["job_id"]?.stringValue ?? "-")), ("Status", output.status(j["status"]?.stringValue ?? "-")),
                             ("Progress", "\(j["progress"]?.intValue ?? 0)%"), ("Message", Output.plain(j["message"] ?? .null)),
                             ("Snapshot", Output.plain(j["snapshot_id"] ?? .null)), ("Started", Output.detailTime(j["started_at"]?.intValue ?? 0)),
                             ("Finished", Output.detailTime(j["finished_at"]?.intValue ?? 0)),
                             ("Restored Sessions", Output.plain(j["restored_sessions"] ?? .null)), ("Error", Output.plain(j["error_code"] ?? .null))])
    }
}

struct BackupSnapshot: CLIRunnable {
    static let configuration = CommandConfiguration(commandName: "snapshot", abstract: "Take a snapshot now (answers once it is durable).")
    @Option(name: [.customShort("d"), .customLong("description")]) var description: String?
    @OptionGroup var globals: GlobalOptions

    func execute() async throws {
        try await runCommand(globals) { (ctx: Context) async throws(CLIError) in
            let connection = try ctx.connection()
            let spinner = Spinner("Creating snapshot...", output: ctx.output)
            let info: JSONObject
            do throws(CLIError) {
                info = try await connection.call(.POST, "/admin/v1/backups/snapshots", body: description.map { ["description": .string($0)] } ?? JSONObject(),
                                                 timeout: .minutes(6)).objectValue ?? JSONObject()
            } catch {
                spinner.stop(ok: false, "Snapshot failed.")
                throw error
            }
            let out = ctx.output
            if out.structured { return out.out(out.document(.object(info))) }
            if out.quiet { return out.out(info["snapshot_id"]?.stringValue ?? "") }
            spinner.stop(ok: true, "Snapshot created.")
            if !out.stderrTTY { out.out("\(out.remote(connection.label)) Snapshot created.") }
            out.details(nil, [("ID", out.id(info["snapshot_id"]?.stringValue ?? "-")), ("Size", Output.size(info["size_bytes"]?.intValue ?? 0)),
                              ("Sessions", Output.plain(info["session_count"] ?? .null)), ("Checksum", Output.plain(info["checksum"] ?? .null))])
        }
    }
}

struct BackupList: CLIRunnable {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List snapshots, newest first.")
    @Option(name: .customLong("page")) var page: Int = 1
    @Option(name: .customLong("page-size")) var pageSize: Int = 20
    @OptionGroup var globals: GlobalOptions

    func execute() async throws {
        try await runCommand(globals) { (ctx: Context) async throws(CLIError) in
            let data = try await ctx.connection().call(.GET, "/admin/v1/backups/snapshots", query: [("page", String(page)), ("size", String(min(pageSize, 100)))])
            let out = ctx.output
            if out.structured { return out.out(out.document(data)) }
            let items = data.objectValue?["items"]?.arrayValue?.compactMap(\.objectValue) ?? []
            CompletionState.shared.ids.withLock { $0 = items.compactMap { $0["snapshot_id"]?.stringValue } }
            if out.quiet { for s in items { out.out(s["snapshot_id"]?.stringValue ?? "") }; return }
            let wide = out.format == .wide
            var headers = ["SNAPSHOT ID", "CREATED", "SIZE", "SESSIONS", "TRIGGER", "DESCRIPTION"]
            if wide { headers += ["ENCRYPTED", "CHECKSUM"] }
            let rows = items.map { s -> [String] in
                var row = [out.id(s["snapshot_id"]?.stringValue ?? "-"), Output.localTime(s["created_at"]?.intValue ?? 0, seconds: false),
                           Output.size(s["size_bytes"]?.intValue ?? 0), Output.plain(s["session_count"] ?? .null), Output.plain(s["trigger"] ?? .null),
                           Output.plain(s["description"] ?? .null)]
                if wide { row += [Output.plain(s["encrypted"] ?? .null), Output.plain(s["checksum"] ?? .null)] }
                return row
            }
            let total = data.objectValue?["pagination"]?.objectValue?["total"]?.intValue ?? Int64(items.count)
            out.table(headers, rows, footer: "Total: \(total) snapshots")
        }
    }
}

struct BackupDownload: CLIRunnable {
    static let configuration = CommandConfiguration(commandName: "download", abstract: "Download a snapshot file (resumable, SHA-256 checked).")
    @Argument var snapshotID: String
    @Option(name: .customLong("out"), help: "Path, or - for stdout (default ./<id>.snap).") var out: String?
    @Flag(name: [.customShort("f"), .customLong("force")]) var force = false
    @OptionGroup var globals: GlobalOptions

    func execute() async throws {
        try await runCommand(globals) { (ctx: Context) async throws(CLIError) in
            let id = snapshotID.lowercased()
            let path = out ?? "./\(id).snap"
            let toStdout = path == "-"
            if !toStdout && FileManager.default.fileExists(atPath: path) && !force {
                throw CLIError.usage("\(path) exists; use --force to replace it")
            }
            let connection = try ctx.connection()
            let filePath = "/admin/v1/backups/snapshots/\(id)/file"
            let (head, _) = try await connection.exchange(.HEAD, filePath, body: nil, contentType: nil)
            guard head.status == 200 else {
                _ = try await connection.call(.GET, filePath)  // the server's error envelope
                throw CLIError.unavailable("unexpected response from \(connection.label) (HTTP \(head.status))")
            }
            let size = Int64(head.header("Content-Length") ?? "") ?? 0
            let etag = head.header("ETag") ?? ""
            let part = toStdout ? "" : path + ".part"
            var offset: Int64 = 0
            if !toStdout {
                if let attributes = try? FileManager.default.attributesOfItem(atPath: part), let n = attributes[.size] as? Int64, n <= size { offset = n } else {
                    FileManager.default.createFile(atPath: part, contents: nil)
                }
            }
            guard let handle = toStdout ? FileHandle.standardOutput : FileHandle(forWritingAtPath: part) else {
                throw CLIError(.data, "cannot write \(part)", code: "TM-CLI-1007")
            }
            if !toStdout { _ = try? handle.seekToEnd() }
            let bar = ProgressBar("Downloading", total: size, output: ctx.output)
            bar.set(offset)
            let sink: @Sendable ([UInt8]) -> Void = { bytes in
                handle.write(Data(bytes))
                bar.advance(bytes.count)
            }
            if offset < size {
                let range: [(String, String)] = offset > 0 ? [("Range", "bytes=\(offset)-"), ("If-Range", etag)] : []
                let (response, _) = try await connection.exchange(.GET, filePath, body: nil, contentType: nil, extraHeaders: range, timeout: .minutes(60),
                                                                  sink: sink)
                if offset > 0 && response.status == 200 {
                    // the file changed since the partial download: start over
                    bar.finish()
                    if !toStdout { try? FileManager.default.removeItem(atPath: part) }
                    throw CLIError(.data, "the snapshot changed during an interrupted download; run the command again", code: "TM-CLI-1007")
                }
            }
            bar.finish()
            if toStdout { return }
            try? handle.close()
            guard Self.verify(part, etag: etag) else {
                try? FileManager.default.removeItem(atPath: part)
                throw CLIError(.data, "download checksum mismatch; the partial file was deleted", code: "TM-CLI-1007")
            }
            if force { try? FileManager.default.removeItem(atPath: path) }
            do { try FileManager.default.moveItem(atPath: part, toPath: path) } catch {
                throw CLIError(.data, "cannot rename \(part) to \(path)", code: "TM-CLI-1007")
            }
            if ctx.output.quiet { return ctx.output.out(path) }
            if ctx.output.structured {
                return ctx.output.out(ctx.output.document(.object(["snapshot_id": .string(id), "path": .string(path), "size_bytes": .int(size)])))
            }
            ctx.output.out("Downloaded \(id) to \(path) (\(Output.size(size)), sha256 verified).")
        }
    }

    /// The file's last 32 bytes are the SHA-256 of everything before them; the ETag names them.
    static func verify(_ path: String, etag: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        guard size >= 32 else { return false }
        try? handle.seek(toOffset: 0)
        var hasher = SHA256()
        var remaining = size - 32
        while remaining > 0 {
            let chunk = handle.readData(ofLength: Int(min(remaining, 1 << 20)))
            guard !chunk.isEmpty else { return false }
            hasher.update(data: chunk)
            remaining -= UInt64(chunk.count)
        }
        let trailer = handle.readData(ofLength: 32)
        let digest = Array(hasher.finalize())
        let expected = etag.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        return Array(trailer) == digest && Identifiers.hex(digest) == expected
    }
}

struct BackupRestore: CLIRunnable {
    static let configuration = CommandConfiguration(commandName: "restore", abstract: "Restore a snapshot (by ID or from a file); the job is followed to its end.")
    @Option(name: .customLong("id")) var id: String?
    @Option(name: .customLong("file")) var file: String?
    @Flag(name: .customLong("restore-keys"), help: "Also restore the API keys of the backup.") var restoreKeys = false
    @Flag(name: .customLong("no-wait"), help: "Print the job ID and return.") var noWait = false
    @Flag(name: [.customShort("f"), .customLong("force")]) var force = false
    @OptionGroup var globals: GlobalOptions

    func execute() async throws {
        try await runCommand(globals) { (ctx: Context) async throws(CLIError) in
            guard (id == nil) != (file == nil) else { throw CLIError.usage("give exactly one of --id and --file") }
            let connection = try ctx.connection()
            if !force {
                ctx.output.err("Warning: writes are refused while the restore runs.\nWarning: every session of the node is replaced by the backup's.\n"
                               + "Warning: sessions revoked since the backup become valid again.")
            }
            try ctx.confirm("Restore \(id ?? file ?? "") on \(connection.label)?", action: "restore a backup", force: force, word: "RESTORE")
            let job: JSONObject
            if let id {
                var body: JSONObject = ["snapshot_id": .string(id.lowercased())]
                if restoreKeys { body["restore_keys"] = true }
                job = try await connection.call(.POST, "/admin/v1/backups/restores", body: body).objectValue ?? JSONObject()
            } else {
                guard let data = FileManager.default.contents(atPath: file!) else { throw CLIError(.data, "cannot read \(file!)", code: "TM-CLI-1007") }
                let boundary = "tokmesh-" + UUID().uuidString
                var body = Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"backup.snap\"\r\nContent-Type: application/octet-stream\r\n\r\n".utf8)
                body += Array(data)
                if restoreKeys { body += Array("\r\n--\(boundary)\r\nContent-Disposition: form-data; name=\"restore_keys\"\r\n\r\ntrue".utf8) }
                body += Array("\r\n--\(boundary)--\r\n".utf8)
                let (_, value) = try await connection.exchange(.POST, "/admin/v1/backups/restores", body: body,
                                                               contentType: "multipart/form-data; boundary=\(boundary)", timeout: .minutes(6))
                job = value.objectValue ?? JSONObject()
            }
            let jobID = job["job_id"]?.stringValue ?? ""
            if noWait {
                if ctx.output.structured { return ctx.output.out(ctx.output.document(.object(job))) }
                return ctx.output.out(jobID)
            }
            let spinner = Spinner("Restoring...", output: ctx.output)
            var last = job
            while true {
                let status = last["status"]?.stringValue ?? ""
                spinner.update("Restoring... \(last["progress"]?.intValue ?? 0)%  \(last["message"]?.stringValue ?? "")")
                if status == "COMPLETED" || status == "FAILED" { break }
                try? await Task.sleep(nanoseconds: 1_000_000_000)
                do throws(CLIError) {
                    last = try await connection.call(.GET, "/admin/v1/backups/restores/\(jobID)").objectValue ?? last
                } catch {
                    spinner.stop(ok: false, "Restore status unknown.")
                    throw error
                }
            }
            let completed = last["status"]?.stringValue == "COMPLETED"
            spinner.stop(ok: completed, completed ? "Restore finished." : "Restore failed.")
            if ctx.output.structured { return ctx.output.out(ctx.output.document(.object(last))) }
            if completed {
                if !ctx.output.quiet { ctx.output.out(ctx.output.status("✓") + " Restore completed (\(last["restored_sessions"]?.intValue ?? 0) sessions).") }
            } else {
                ctx.output.err(ctx.output.status("✗") + " Restore failed: \(last["message"]?.stringValue ?? "-") (\(last["error_code"]?.stringValue ?? "-"))")
                throw CLIError(.failed, "restore failed")
            }
        }
    }
}

struct BackupStatus: CLIRunnable {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show a restore job.")
    @Argument var jobID: String
    @OptionGroup var globals: GlobalOptions

    func execute() async throws {
        try await runCommand(globals) { (ctx: Context) async throws(CLIError) in
            let data = try await ctx.connection().call(.GET, "/admin/v1/backups/restores/\(jobID)")
            if ctx.output.structured { return ctx.output.out(ctx.output.document(data)) }
            if ctx.output.quiet { return ctx.output.out(data.objectValue?["status"]?.stringValue ?? "") }
            BackupCommand.jobDetails(data.objectValue ?? JSONObject(), output: ctx.output)
        }
    }
}
