// TokMeshNode: the process lifecycle of `tokmesh-server` — parse flags, load and validate the
// configuration (exit 78 on failure, 64 on usage errors), open the data directory, build the
// services, bind the listeners, run the expiry GC, and stop gracefully on SIGTERM/SIGINT or
// `POST /local/v1/shutdown` (/ready 503, serve through the grace period, close, flush, exit 0),
// and reload the configuration on SIGHUP (`RuntimeConfig`).
import Dispatch
import Foundation
import NIOCore
import NIOPosix
import Synchronization
import TokMeshAuth
import TokMeshCore
import TokMeshHTTP
import TokMeshRESPServer
import TokMeshService
import TokMeshStorage
import TokMeshTelemetry
import Tracing

public enum TokMeshNode {
    public static let usage = """
        Usage: tokmesh-server [--config FILE] [--<key>=<value>…]
               tokmesh-server --check-config FILE | --config-reference | --version | --help
        Every configuration key is also a flag (--server.http.address=127.0.0.1:5080) and an
        environment variable (TOKMESH_SERVER_HTTP_ADDRESS).
        """

    static func printError(_ text: String) {
        FileHandle.standardError.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }

    /// Runs the server; returns the process exit code.
    public static func main(arguments: [String], environment: [String: String]) async -> Int32 {
        let loader = ConfigLoader(arguments: arguments, environment: environment,
                                  workingDirectory: FileManager.default.currentDirectoryPath)
        let parsed: (mode: LaunchMode, configFile: String?, flags: [(String, String)])
        do {
            parsed = try loader.parseArguments()
        } catch {
            printError("tokmesh-server: \(error.message)\n\(usage)")
            return 64
        }
        switch parsed.mode {
        case .help: print(usage); return 0
        case .version: print("tokmesh-server \(NodeContext.version) (commit unknown, built \(NodeContext.buildTime))"); return 0
        case .reference: print(ConfigKeys.reference(), terminator: ""); return 0
        case .serve, .checkConfig: break
        }
        let config: ServerConfig
        do {
            config = ServerConfig(try loader.load(explicitFile: parsed.configFile, flags: parsed.flags))
        } catch {
            printError(error.report)
            return 78
        }
        if parsed.mode == .checkConfig {
            print("Configuration is valid.")
            for w in config.startupWarnings { print("Warning: [\(w.code.rawValue)] \(w.key): \(w.message)") }
            return 0
        }
        do {
            return try await serve(config, loader: loader, file: parsed.configFile, flags: parsed.flags)
        } catch let failure as ConfigFailure {
            printError(failure.report)
            return 78
        } catch {
            printError("tokmesh-server: \(error)")
            return 1
        }
    }

    /// Runs the node; `loader`, `file` and `flags` load the configuration again (reloads).
    static func serve(_ config: ServerConfig, loader: ConfigLoader, file: String?, flags: [(String, String)]) async throws -> Int32 {
        let clock = SystemClock()
        let dataDirectory = try DataDirectory.open(config.dataDirectory)
        defer { dataDirectory.release() }
        let certificateName = config.clusterEnabled ? CertificateName.commonName(pemFile: config.clusterCertFile) : nil
        let nodeID = try NodeIdentity.resolve(configured: config.nodeID, dataDirectory: config.dataDirectory, now: clock.nowMillis(),
                                              certificateName: certificateName)
        if config.clusterEnabled && certificateName != nodeID {
            throw ConfigFailure(issues: [ConfigIssue(code: .cfgCertificate, key: "cluster.tls.cert_file",
                                                     message: "the certificate's CN (\(certificateName ?? "none")) must equal the node ID \(nodeID)", source: nil)])
        }
        let clusterID = try ClusterIdentity.load(dataDirectory: config.dataDirectory)
        // Bootstraps swift-metrics before any module makes a metric handle.
        _ = MetricsRegistry.shared
        let logger = Logger(level: Logger.Level(name: config.logLevel) ?? .info, clock: clock)
        // Every way out of here writes the queued lines first.
        defer { logger.flush() }
        logger.setNodeID(nodeID)
        logStartup(config, logger: logger)
        if config.localEnabled { try checkSocketPath(config.socketPath) }

        let cores = UsableCores.count
        // Recovery (spec/02 §6, WAL part): replay the log into the engine, then log every mutation.
        let journal = LateJournal()
        let engine = SessionEngine(shardCount: SessionEngine.defaultShardCount(cores: cores), journal: journal)
        let masterKey = config.encryptionEnabled
            ? try StorageKey.load(configuredHex: config.encryptionKeyHex, dataDirectory: config.dataDirectory) : nil
        let snapshots = try SnapshotStore(directory: config.snapshotDirectory, masterKey: masterKey, cipher: .preferred(), nodeID: nodeID)
        let sessions = SessionService(engine: engine, limits: config.limits, clock: clock)
        let audit = try AuditLog(directory: config.dataDirectory + "/audit", nodeID: nodeID, clock: clock)
        let authenticator = Authenticator(registry: KeyRegistry(), settings: config.auth, clock: clock) { ip in
            audit.record(AuditRecord(operatorID: "anonymous", action: "BRUTE_FORCE_BLOCKED", resource: ip.description, success: false,
                                     errorCode: ErrorCode.sysRateLimited.rawValue, ipAddress: ip.description, tcpRemoteIP: ip.description,
                                     userAgent: "", requestID: "", details: ["blocked_seconds": .int(BruteForceGuard.windowMillis / 1000)]))
        }
        let keys = KeyAdminService(authenticator: authenticator, clock: clock)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: cores)
        let pool = NIOThreadPool(numberOfThreads: max(1, cores / 2))
        pool.start()
        let maintenance = NIOThreadPool(numberOfThreads: 2)
        maintenance.start()

        let stop = StopSignal()
        let runtime = RuntimeConfig(current: config, loader: loader, file: file, flags: flags, logger: logger, authenticator: authenticator)
        let tracer = makeTracer(config, nodeID: nodeID, logger: logger)
        let node = NodeContext(config: config, runtime: runtime, tracer: tracer, nodeID: nodeID, clock: clock, logger: logger, sessions: sessions, keys: keys,
                               authenticator: authenticator, audit: audit, journal: journal, snapshots: snapshots,
                               stats: ConnectionStats(maxConnections: config.maxConnections), blockingPool: pool,
                               maintenancePool: maintenance,
                               shutdownRequest: { grace in stop.fire(graceMillis: grace, trigger: "local_socket") })
        NodeMetrics.install(node)
        let responder = APIResponder(node: node, router: APIRoutes.router(node))
        let idle = TimeAmount.milliseconds(config.idleTimeoutMillis)

        var servers: [HTTPServer] = []
        var respListeners: [RESPListener] = []
        let publicResponder = PublicRPC.responder(node: node, api: responder)
        var h2 = H2Settings()
        h2.maxConcurrentStreams = UInt32(config.h2MaxConcurrentStreams)
        var tlsListeners: [TLSReloader.Listener] = []
        do {
            if config.clusterEnabled {
                let tls = TLSContextBox(try TLSServerContext.make(certFile: config.clusterCertFile, keyFile: config.clusterKeyFile,
                                                                  clientCAFile: config.clusterCAFile, alpn: ["h2"]))
                tlsListeners.append(.init(name: "cluster", group: "cluster.tls", certFile: config.clusterCertFile, keyFile: config.clusterKeyFile,
                                          clientCAFile: config.clusterCAFile, alpn: ["h2"], box: tls))
                var clusterH2 = H2Settings()
                clusterH2.maxConcurrentStreams = 256
                let port = ClusterPort(node: node, clusterID: clusterID, incarnation: UInt64(clock.nowMillis()))
                let cluster = try await HTTPServer.bindTLS(host: config.clusterHost, port: config.clusterPort, group: group, tls: tls,
                                                           responder: port, stats: node.stats, idleTimeout: idle, h2Settings: clusterH2,
                                                           h2Only: true, peerName: { CertificateName.commonName($0) })
                servers.append(cluster)
                logListener(logger, "cluster", "\(config.clusterHost):\(cluster.localPort ?? config.clusterPort)", protocols: ["h2", "grpc"], tls: true)
            }
            if config.httpsEnabled {
                let tls = TLSContextBox(try TLSServerContext.make(certFile: config.httpsCertFile, keyFile: config.httpsKeyFile,
                                                                  clientCAFile: config.httpsClientCAFile, alpn: ["h2", "http/1.1"]))
                tlsListeners.append(.init(name: "https", group: "server.https.tls", certFile: config.httpsCertFile, keyFile: config.httpsKeyFile,
                                          clientCAFile: config.httpsClientCAFile, alpn: ["h2", "http/1.1"], box: tls))
                let https = try await HTTPServer.bindTLS(host: config.httpsHost, port: config.httpsPort, group: group, tls: tls,
                                                         responder: publicResponder, stats: node.stats, idleTimeout: idle, h2Settings: h2)
                servers.append(https)
                logListener(logger, "https", "\(config.httpsHost):\(https.localPort ?? config.httpsPort)", protocols: ["http1", "h2", "connect", "grpc"], tls: true)
            }
            if config.httpEnabled {
                let http = try await HTTPServer.bindTCP(host: config.httpHost, port: config.httpPort, group: group, responder: publicResponder,
                                                        stats: node.stats, idleTimeout: idle, h2Settings: h2)
                servers.append(http)
                logListener(logger, "http", "\(config.httpHost):\(http.localPort ?? config.httpPort)", protocols: ["http1", "h2", "connect", "grpc"], tls: false)
            }
            for (enabled, tlsListener, host, port) in [(config.redisEnabled, false, config.redisHost, config.redisPort),
                                                     (config.redisTLSEnabled, true, config.redisTLSHost, config.redisTLSPort)] where enabled {
                let tls = tlsListener ? TLSContextBox(try TLSServerContext.make(certFile: config.redisTLSCertFile, keyFile: config.redisTLSKeyFile,
                                                                                clientCAFile: config.redisTLSClientCAFile, alpn: [])) : nil
                if let tls {
                    tlsListeners.append(.init(name: "redis_tls", group: "server.redis_tls.tls", certFile: config.redisTLSCertFile,
                                              keyFile: config.redisTLSKeyFile, clientCAFile: config.redisTLSClientCAFile, alpn: [], box: tls))
                }
                let listener = try await RESPListener.bind(host: host, port: port, group: group, tls: tls, context: respContext(node))
                respListeners.append(listener)
                logListener(logger, tlsListener ? "redis_tls" : "redis", "\(host):\(listener.localPort ?? port)", protocols: ["resp"], tls: tlsListener)
            }
            if config.localEnabled {
                servers.append(try await HTTPServer.bindUnix(path: config.socketPath, group: group, responder: responder, stats: node.stats, idleTimeout: idle))
                logListener(logger, "local", config.socketPath, protocols: ["http1"], tls: false)
            }
        } catch {
            logger.log(.error, "tokmesh.server", "cannot bind a listener", ["error": .string("\(error)")])
            for s in servers { await s.close() }
            for l in respListeners { await l.close() }
            try? await group.shutdownGracefully()
            return 1
        }

        // Listeners answer 503 (business routes, /ready) until the log has been replayed.
        let wal: WALJournal
        do {
            let (opened, resets) = try openWAL(config, masterKey: masterKey, engine: engine, snapshots: snapshots, logger: logger)
            wal = opened
            for (index, id) in resets { node.restores.noteReset(index: index, snapshotID: id) }
        } catch let failure as StartupFailure {
            logger.log(.error, "tokmesh.storage", failure.message, ["event": "recovery_failed", "code": .string(failure.code.rawValue)])
            for s in servers { await s.close() }
            for l in respListeners { await l.close() }
            try? await group.shutdownGracefully()
            try? await pool.shutdownGracefully()
            try? await maintenance.shutdownGracefully()
            if config.localEnabled { unlink(config.socketPath) }
            printError("tokmesh-server: [\(failure.code.rawValue)] \(failure.message)")
            return 1
        } catch {
            for s in servers { await s.close() }
            for l in respListeners { await l.close() }
            try? await group.shutdownGracefully()
            try? await pool.shutdownGracefully()
            try? await maintenance.shutdownGracefully()
            if config.localEnabled { unlink(config.socketPath) }
            throw error
        }
        journal.attach(wal)
        MemoryTrim.release()  // the snapshot file and its decoded copy are gone
        let writer = wal.writer

        // Expiry GC (spec/01 §5.10) and daily audit retention, on one event loop.
        let gcLoop = group.next()
        let gcTask = gcLoop.scheduleRepeatedTask(initialDelay: .milliseconds(config.gcIntervalMillis),
                                                 delay: .milliseconds(config.gcIntervalMillis)) { _ in
            var rng = SystemRandomNumberGenerator()
            _ = sessions.gcTick(sampleSize: config.gcSampleSize, using: &rng)
        }
        let retentionTask = gcLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .hours(24)) { _ in
            audit.removeOld(retentionDays: config.auditRetentionDays, now: clock.nowMillis())
        }

        // Scheduled snapshots (spec/02 §5.3): every interval, or sooner once the WAL grew by the threshold.
        // Certificate files: polled every second, reloaded once a change holds still (spec/08 §7).
        let tlsReloader = TLSReloader(listeners: tlsListeners, logger: logger, nodeID: nodeID)
        runtime.tlsReload.withLock { $0 = { config in tlsReloader.reloadAll(paths: config, trigger: "reload") } }
        let tlsWatch = tlsReloader.isEmpty ? nil : gcLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
            _ = maintenance.runIfActive(eventLoop: gcLoop) { tlsReloader.poll() }
        }
        let snapshotCheck = gcLoop.scheduleRepeatedTask(initialDelay: .seconds(10), delay: .seconds(10)) { _ in
            _ = maintenance.runIfActive(eventLoop: gcLoop) {
                SnapshotScheduler.tick(node, now: clock.nowMillis())
            }
        }

        let signals = installSignalHandlers(stop: stop, graceMillis: config.shutdownGraceMillis)
            + [runtime.installSignalHandler { result in
                guard case .success(let outcome) = result else { return }
                audit.record(AuditRecord(operatorID: "SYSTEM", action: "CONFIG_UPDATED", resource: "config", success: true, errorCode: nil,
                                         ipAddress: "local", tcpRemoteIP: "local", userAgent: "", requestID: "",
                                         details: ["trigger": "SIGHUP", "updated": .strings(outcome.updated), "ignored": .strings(outcome.ignored)]))
            }]
        node.started.store(true, ordering: .relaxed)
        node.ready.store(true, ordering: .relaxed)
        logger.log(.info, "tokmesh.server", "ready", ["event": "ready"])

        let (graceMillis, trigger) = await stop.wait()
        node.stopping.store(true, ordering: .relaxed)
        node.ready.store(false, ordering: .relaxed)
        logger.log(.info, "tokmesh.server", "shutting down", ["event": "shutdown_started", "signal": .string(trigger), "grace_ms": .int(graceMillis)])
        // Steps 2-4 of spec/11 §6: serve through the grace period, close the client listeners,
        // then let every connection finish its current request and close, up to the deadline.
        let drainStarted = monotonicNanos()
        if graceMillis > 0 { _ = await stop.waitForSecond(timeoutMillis: graceMillis) }
        for s in servers { await s.close() }
        for l in respListeners { await l.close() }
        let asked = node.stats.drain()
        let drainBudget = max(0, config.shutdownTimeoutMillis - graceMillis)
        let deadline = monotonicNanos() + UInt64(drainBudget) * 1_000_000
        while node.stats.registeredCount > 0 && monotonicNanos() < deadline && !stop.secondSignal {
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
        logger.log(.info, "tokmesh.server", "connections drained", [
            "event": "shutdown_drained", "connections": .int(Int64(asked)), "unfinished": .int(Int64(node.stats.registeredCount)),
            "duration_ms": .int(Int64((monotonicNanos() - drainStarted) / 1_000_000)),
        ])
        gcTask.cancel()
        retentionTask.cancel()
        snapshotCheck.cancel()
        tlsWatch?.cancel()
        signals.forEach { $0.cancel() }
        tracer?.exporter.shutdown()
        // Flush the log while the event loops still run, so every waiting answer is delivered.
        writer.close()
        try? await group.shutdownGracefully()
        try? await pool.shutdownGracefully()
        try? await maintenance.shutdownGracefully()
        audit.stop()
        if config.localEnabled { unlink(config.socketPath) }
        logger.log(.info, "tokmesh.server", "stopped", ["event": "shutdown_completed", "duration_ms": .int(Int64((monotonicNanos() - drainStarted) / 1_000_000))])
        return 0
    }

    /// What the RESP listeners need from the node (spec/05 §2 node states, §6 acknowledgement).
    static func respContext(_ node: NodeContext) -> RESPServerContext {
        var context = RESPServerContext(
            sessions: node.sessions, authenticator: node.authenticator, blockingPool: node.blockingPool, connections: node.stats,
            stats: node.respStats, nodeID: node.nodeID, version: NodeContext.version, startedAtMillis: node.startedAt,
            // Both hold from the end of recovery, through restores (reads go on) and the stop's
            // grace period (spec/05 §2); a failed log fails the writes themselves.
            keysLoaded: { node.started.load(ordering: .relaxed) },
            isReady: { node.started.load(ordering: .relaxed) },
            isRestoring: { node.restores.maintenance.load(ordering: .relaxed) },
            isSnapshotting: { node.snapshots.isWriting },
            acknowledge: { index, durable, done in
                guard let writer = node.journal.writer else { return done(false) }
                writer.whenAcknowledged(index, durable: durable) { outcome in
                    if case .success = outcome { done(true) } else { done(false) }
                }
            },
            warn: { message, fields in
                var object = JSONObject()
                for (name, value) in fields.sorted(by: { $0.key < $1.key }) { object.append(name, .string(value)) }
                node.logger.log(.warn, "tokmesh.resp", message, object)
            })
        context.audit = node.audit
        // RESPAccessLog.Level's raw values are Logger.Level's (0 DEBUG, 2 WARN, 3 ERROR).
        let level: @Sendable (RESPAccessLog.Level) -> Logger.Level = { Logger.Level(rawValue: $0.rawValue) ?? .debug }
        context.accessLog = RESPAccessLog(
            wants: { node.logger.enabled(level($0)) },
            write: { node.requests.respLine(level($0), $1, nowMillis: node.clock.nowMillis()) })
        if let tracer = node.tracer {
            context.startSpan = { command in tracer.startServerSpan(command, traceparent: nil, tracestate: nil, nowMillis: node.clock.nowMillis()) }
        }
        return context
    }

    /// Opens the session WAL, replays it into `engine` and starts the group-commit writer.
    /// RESET records met in the log are returned (index, snapshot) so retention keeps their files.
    static func openWAL(_ config: ServerConfig, masterKey: [UInt8]?, engine: SessionEngine, snapshots: SnapshotStore,
                        logger: Logger) throws -> (WALJournal, resets: [(UInt64, String)]) {
        let now = SystemClock().nowMillis()
        // Base = the newest snapshot that verifies (spec/02 §6 step 3), then the log after it.
        var base: UInt64 = 0
        var baseID = ""
        let recoveryStarted = monotonicNanos()
        logger.log(.info, "tokmesh.storage", "recovery started", ["event": "recovery_started", "wal_dir": .string(config.walDirectory)])
        let options = LogOptions(directory: config.walDirectory, kind: .wal, prefix: "wal", masterKey: masterKey,
                                 segmentBytesMax: config.walSegmentBytes, knownTypes: WALRecord.knownTypes)
        // The log is read, checked and decoded on another thread while the snapshot loads.
        let prefetch = WALPrefetch(options)
        let contents = snapshots.newestValid(onFailure: { id, error in
            logger.log(.error, "tokmesh.storage", "snapshot unusable, trying an older one", [
                "event": "snapshot_invalid", "snapshot_id": .string(id), "error": .string("\(error)"), "code": .string(ErrorCode.sysBackup.rawValue),
            ])
        })
        let snapshotReadNanos = monotonicNanos() - recoveryStarted
        var snapshotLoadNanos: UInt64 = 0
        if let contents {
            base = contents.header.walPosition
            baseID = contents.header.snapshotID
        }
        let started = monotonicNanos()
        // The log after the base, in index order, as open checks and repairs it.
        let (prescanned, images) = prefetch.wait()
        var pending: [LogRecord] = []
        let log: SegmentedLog, report: LogOpenReport
        do {
            (log, report) = try SegmentedLog.open(options, after: base, prescanned: prescanned) { record in
                if record.index > base { pending.append(record) }
            }
        } catch LogError.unreadable(let message) {
            throw ConfigFailure(issues: [ConfigIssue(code: .cfgConflict, key: "security.storage.encryption_key", message: message, source: nil)])
        }
        var undecodable = 0
        let decoded = pending.map { record -> ReplayedRecord in
            if let (time, stored) = images.image(at: record.index) ?? WALRecord.decodePostImage(type: record.type, payload: record.payload) {
                return .image(time: time, stored)
            }
            do {
                return .record(try WALRecord.decode(type: record.type, payload: record.payload))
            } catch {
                undecodable += 1
                return .undecodable
            }
        }
        let replayed = decoded.count - undecodable
        let firstReplayed = pending.first?.index ?? 0
        let times = decoded.lazy.compactMap(\.time)
        let oldestTime = times.first ?? 0, newestTime = times.reduce(0) { _, t in t }
        var resets: [(UInt64, String)] = []
        // Snapshot and log in one bulk load when the log folds (WALFold.swift); else the
        // snapshot, then every record in order. A RESET to the base snapshot itself (a restore's
        // usual trace) leaves the base as the state, so only the records after it are folded.
        let loadStarted = monotonicNanos()
        let lastReset = decoded.lastIndex { if case .record(.reset) = $0 { true } else { false } }
        var fold: WALFold?
        if let lastReset {
            if case .record(.reset(_, let id)) = decoded[lastReset], let contents, id == contents.header.snapshotID {
                fold = WALFold(decoded[(lastReset + 1)...].lazy.map(\.foldEntry), now: now)
            }
        } else {
            fold = WALFold(decoded.lazy.map(\.foldEntry), now: now)
        }
        if let fold {
            for (record, item) in zip(pending, decoded) {
                if case .record(.reset(_, let id)) = item { resets.append((record.index, id)) }
            }
            engine.load(contents?.sessions ?? SessionBatch([]), tombstones: contents?.tombstones ?? [], now: now, replayedOver: fold)
            snapshotLoadNanos = monotonicNanos() - loadStarted
        } else {
            if let contents { engine.load(contents.sessions, tombstones: contents.tombstones, now: now) }
            snapshotLoadNanos = monotonicNanos() - loadStarted
            var appliedSinceBase = false
            for (record, item) in zip(pending, decoded) {
                switch item {
                case .image(_, let stored):
                    engine.applyPostImage(stored, now: now)
                    appliedSinceBase = true
                case .record(.reset(_, let id)):
                    resets.append((record.index, id))
                    // The restore snapshot is usually the base itself; load it again only if
                    // records of the old state were replayed on top of it.
                    if id != baseID || appliedSinceBase {
                        try replaceState(engine, withSnapshot: id, snapshots: snapshots, now: now)
                    }
                    appliedSinceBase = false
                    baseID = id
                case .record(let r):
                    engine.apply(r, now: now)
                    appliedSinceBase = true
                case .undecodable:
                    break
                }
            }
        }
        if let contents {
            logger.log(.info, "tokmesh.storage", "snapshot loaded", [
                "event": "snapshot_loaded", "snapshot_id": .string(contents.header.snapshotID), "wal_position": .uint(contents.header.walPosition),
                "sessions": .int(Int64(contents.sessions.count)),
            ])
        }
        let registry = MetricsRegistry.shared
        registry.syncCounter("tokmesh_wal_corruptions_total", [("kind", "torn_tail")], total: Double(report.tornTails.count))
        registry.syncCounter("tokmesh_wal_corruptions_total", [("kind", "corrupt_frame")], total: report.corruption == nil ? 0 : 1)
        for torn in report.tornTails {
            logger.log(.warn, "tokmesh.storage", "torn WAL tail truncated", [
                "event": "wal_torn_tail", "segment": .string(torn.segment), "offset": .int(Int64(torn.offset)), "reason": .string(torn.reason),
            ])
        }
        if let damage = report.corruption {
            logger.log(.error, "tokmesh.storage", "corrupt WAL segment: intact prefix recovered, the rest set aside", [
                "event": "wal_corruption", "segment": .string(damage.segment), "offset": .int(Int64(damage.offset)),
                "reason": .string(damage.reason), "set_aside": .strings(report.setAside),
            ])
        }
        if firstReplayed > base + 1 {
            logger.log(.error, "tokmesh.storage", "the WAL no longer reaches back to the snapshot: records lost", [
                "event": "wal_gap", "lost_from": .uint(base + 1), "lost_to": .uint(firstReplayed - 1),
            ])
        }
        if undecodable > 0 {
            logger.log(.error, "tokmesh.storage", "WAL records that could not be decoded were skipped", ["event": "wal_undecodable", "count": .int(Int64(undecodable))])
        }
        logger.log(.info, "tokmesh.storage", "recovery completed", [
            "event": "recovery_completed", "snapshot": baseID.isEmpty ? .null : .string(baseID), "sessions": .int(Int64(engine.heldCount())),
            "wal_records": .int(Int64(replayed)), "wal_folded": .bool(fold != nil), "last_index": .uint(report.lastIndex), "cipher": .string(options.cipher.name),
            "duration_ms": .int(Int64((monotonicNanos() - recoveryStarted) / 1_000_000)),
            "snapshot_read_ms": .int(Int64(snapshotReadNanos / 1_000_000)), "snapshot_load_ms": .int(Int64(snapshotLoadNanos / 1_000_000)),
            "wal_replay_ms": .int(Int64((monotonicNanos() - started - snapshotLoadNanos) / 1_000_000)),
        ])
        // spec/02 §6: a recovery over 5 s is reported with each phase's time.
        let totalMillis = Int64((monotonicNanos() - recoveryStarted) / 1_000_000)
        MetricsRegistry.shared.setGauge("tokmesh_recovery_duration_seconds", [], Double(monotonicNanos() - recoveryStarted) / 1e9)
        if totalMillis > 5000 {
            logger.log(.warn, "tokmesh.storage", "recovery took over 5 s", [
                "event": "recovery_slow", "duration_ms": .int(totalMillis),
                "snapshot_read_ms": .int(Int64(snapshotReadNanos / 1_000_000)), "snapshot_load_ms": .int(Int64(snapshotLoadNanos / 1_000_000)),
                "wal_replay_ms": .int(Int64((monotonicNanos() - started - snapshotLoadNanos) / 1_000_000)),
            ])
        }
        let writer = LogWriter(log: log, mode: config.walSyncMode, batchCount: config.walBatchCount, batchBytes: config.walBatchBytes, metrics: .sessionWAL())
        return (WALJournal(writer: writer, oldestRecordTime: oldestTime, newestRecordTime: newestTime), resets)
    }

    /// A RESET during replay: the state becomes the named snapshot. A missing or invalid file
    /// stops start-up (spec/02 §6 step 5: states are never mixed across a restore).
    static func replaceState(_ engine: SessionEngine, withSnapshot id: String, snapshots: SnapshotStore, now: Int64) throws {
        let contents: SnapshotContents
        do {
            contents = try snapshots.contents(of: id)
        } catch {
            throw StartupFailure(code: .sysStorage, message: "the WAL names restore snapshot \(id), which cannot be used (\(error)); "
                                 + "put that file back into the snapshot directory")
        }
        let aside = SessionEngine(shardCount: engine.shardCount)
        aside.load(contents.sessions, tombstones: contents.tombstones, now: now)
        _ = try? engine.replaceContents(with: aside)
    }

    /// A stale socket is replaced; a non-socket, or a socket another process answers on → TM-CFG-1005.
    static func checkSocketPath(_ path: String) throws {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        func conflict(_ message: String) -> ConfigFailure {
            ConfigFailure(issues: [ConfigIssue(code: .cfgConflict, key: "server.local.socket_path", message: message, source: nil)])
        }
        guard (st.st_mode & S_IFMT) == S_IFSOCK else { throw conflict("\(path) exists and is not a socket") }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buf in
            let bytes = Array(path.utf8.prefix(buf.count - 1))
            buf.copyBytes(from: bytes)
        }
        let rc = withUnsafePointer(to: &address) { ptr in
            ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if rc == 0 { throw conflict("another process is serving on \(path)") }
    }

    /// The tracer of spec/10 §5 when tracing is on; its export failures are logged at most
    /// once a minute.
    static func makeTracer(_ config: ServerConfig, nodeID: String, logger: Logger) -> TokMeshTracer? {
        guard config.tracingEnabled else { return nil }
        let lastWarning = Mutex<Int64>(0)
        let resource: [(String, SpanAttributeValue)] = [
            ("service.name", .string("tokmesh-server")), ("service.version", .string(NodeContext.version)),
            ("service.instance.id", .string(nodeID)), ("host.name", .string(ProcessInfo.processInfo.hostName)),
        ]
        guard let exporter = SpanExporter(endpoint: config.tracingEndpoint, resource: resource, version: NodeContext.version, onFailure: { problem in
            let now = SystemClock().nowMillis()
            guard lastWarning.withLock({ last in
                guard now - last >= 60_000 else { return false }
                last = now
                return true
            }) else { return }
            logger.log(.warn, "tokmesh.server", "span export failed; spans dropped", ["event": "tracing_export_failed", "error": .string(problem)])
        }) else { return nil }
        TraceScope.enabled.store(true, ordering: .relaxed)
        let tracer = TokMeshTracer(sampler: TraceSampler(ratio: config.tracingSamplingRatio), exporter: exporter)
        // Outbound cluster calls (RPCChannel) start client spans and inject `traceparent` through it.
        InstrumentationSystem.bootstrap(tracer)
        return tracer
    }

    static func installSignalHandlers(stop: StopSignal, graceMillis: Int64) -> [any DispatchSourceSignal] {
        [SIGTERM, SIGINT].map { sig in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { stop.fire(graceMillis: graceMillis, trigger: sig == SIGTERM ? "SIGTERM" : "SIGINT") }
            source.resume()
            return source
        }
    }

    /// `listener_started` (spec/10 §1) once a listener is bound.
    static func logListener(_ logger: Logger, _ listener: String, _ address: String, protocols: [String], tls: Bool) {
        logger.log(.info, "tokmesh.server", "listener started", [
            "event": "listener_started", "listener": .string(listener), "address": .string(address), "protocols": .strings(protocols), "tls": .bool(tls),
        ])
    }

    static func logStartup(_ config: ServerConfig, logger: Logger) {
        let l = config.loaded
        logger.log(.info, "tokmesh.config", "configuration loaded", [
            "event": "config_loaded",
            "config_source": .object([
                "file": l.filePath.map { .string($0) } ?? .null,
                "env_overrides": .strings(l.envOverrides),
                "cli_overrides": .strings(l.cliOverrides),
            ]),
            "config_summary": .object([
                "server_http": .object(["enabled": .bool(config.httpEnabled), "address": .string("\(config.httpHost):\(config.httpPort)")]),
                "server_local": .object(["enabled": .bool(config.localEnabled), "socket_path": .string(config.socketPath)]),
                "storage": .object(["data_dir": .string(config.dataDirectory)]),
                "telemetry": .object(["metrics": .object(["auth_enabled": .bool(config.metricsAuthEnabled)]),
                                      "logging": .object(["level": .string(config.logLevel)]),
                                      "tracing": .object(["enabled": .bool(config.tracingEnabled)])]),
            ]),
        ])
        for w in config.startupWarnings {
            logger.log(.warn, "tokmesh.config", w.message, ["event": "config_warning", "key": .string(w.key), "code": .string(w.code.rawValue)])
        }
    }
}

/// The engine's journal, attached once the WAL has been replayed (the engine must exist to
/// replay into, and the writer can only start after the replay).
final class LateJournal: SessionJournal {
    private let target = Mutex<WALJournal?>(nil)

    func attach(_ journal: WALJournal) { target.withLock { $0 = journal } }

    /// The WAL once recovery has finished.
    var wal: WALJournal? { target.withLock { $0 } }
    var writer: LogWriter? { wal?.writer }

    func append(_ record: WALRecord, urgent: Bool) throws(TokMeshError) -> UInt64 {
        guard let journal = target.withLock({ $0 }) else { preconditionFailure("a mutation before the WAL was replayed") }
        return try journal.append(record, urgent: urgent)
    }
}

/// Start-up cannot continue (a RESET naming a missing snapshot); exit 1 with the code.
struct StartupFailure: Error {
    var code: ErrorCode
    var message: String
}

/// A one-shot stop request (first caller wins) that `serve` awaits.
final class StopSignal: Sendable {
    private struct State { var fired: (Int64, String)?; var second = false; var waiter: CheckedContinuation<(Int64, String), Never>? }
    private let state = Mutex(State())

    /// A stop was asked for again while stopping: skip to the final flush (spec/11 §6).
    var secondSignal: Bool { state.withLock { $0.second } }

    /// Waits up to `timeoutMillis`, returning early (true) on a second stop signal.
    func waitForSecond(timeoutMillis: Int64) async -> Bool {
        let deadline = monotonicNanos() + UInt64(timeoutMillis) * 1_000_000
        while monotonicNanos() < deadline {
            if secondSignal { return true }
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
        return secondSignal
    }

    func fire(graceMillis: Int64, trigger: String) {
        let waiter = state.withLock { s -> CheckedContinuation<(Int64, String), Never>? in
            guard s.fired == nil else { s.second = true; return nil }
            s.fired = (graceMillis, trigger)
            let w = s.waiter
            s.waiter = nil
            return w
        }
        waiter?.resume(returning: (graceMillis, trigger))
    }

    func wait() async -> (Int64, String) {
        await withCheckedContinuation { (c: CheckedContinuation<(Int64, String), Never>) in
            let fired = state.withLock { s -> (Int64, String)? in
                if let f = s.fired { return f }
                s.waiter = c
                return nil
            }
            if let fired { c.resume(returning: fired) }
        }
    }
}

/// A WAL record as recovery decoded it.
enum ReplayedRecord {
    case image(time: Int64, StoredSession)
    case record(WALRecord)
    case undecodable

    var time: Int64? {
        switch self {
        case .image(let time, _): time
        case .record(let r): r.time
        case .undecodable: nil
        }
    }

    /// What the fold sees (non-canonical IDs and tokens are skipped, as `apply` skips them).
    var foldEntry: WALFold.Entry {
        switch self {
        case .image(_, let stored): .image(stored)
        case .record(.create(_, let s)), .record(.update(_, let s)): StoredSession(s).map { .image($0) } ?? .skip
        case .record(.delete(_, let id, _)): SessionKey(id).map { .delete($0) } ?? .skip
        case .record(.revoke(_, let t)): StoredTombstone(t).map { .revoke($0) } ?? .skip
        case .record(.reset): .reset
        case .undecodable: .skip
        }
    }
}
