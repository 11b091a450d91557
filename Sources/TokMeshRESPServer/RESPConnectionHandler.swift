// RESPConnectionHandler: one RESP connection on its event loop (spec/05 §2, §6) — bytes into
// the parser, each command through the dispatch checks (table, login, key re-check, role,
// readiness, restore gate) to its handler, replies buffered and flushed once per read batch,
// before any wait and at 64 KiB. Commands run strictly in order: one that waits (Argon2 on the
// blocking pool, a WAL acknowledgement) holds the rest back, and reading pauses while 1 MiB
// of unparsed input queues behind it or the channel is unwritable. Timers close connections
// that never authenticate (60 s), stall mid-command (10 s) or never finish TLS (10 s).
import NIOCore
import NIOPosix
import NIOTLS
import TokMeshAuth
import TokMeshCore
import TokMeshHTTP
import TokMeshRESP
import TokMeshService

final class RESPConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    static let flushThreshold = 64 << 10
    static let pausedInputBytes = 1 << 20
    static let authTimeout = TimeAmount.seconds(60)
    static let incompleteTimeout = TimeAmount.seconds(10)
    static let handshakeTimeout = TimeAmount.seconds(10)

    private let server: RESPServerContext
    private let accessLog: RESPAccessLog?
    private let commands: RESPSessionCommands
    private let listener: String
    private let tls: Bool
    private var parser = RESPParser()
    private var state: RESPConnectionState
    private var writer = RESPWriter()
    private var peerIP = IPAddress(bytes: [0, 0, 0, 0])
    private var peerAddress = ""
    private var localAddress = ""
    /// The credential of the current login, kept in memory only to verify it again when the
    /// key's `version` changes (spec/03 §4.3).
    private var credential: String?
    private var keyVersion: UInt64 = 0
    private var keyCheck: Authenticator.KeyCheckCache?
    /// A command is waiting (Argon2 or the WAL); later ones stay queued in the parser.
    private var busy = false
    private var closing = false
    private var readHeld = false
    private var sawFirstByte = false
    private var activated = false
    private var authTimer: Scheduled<Void>?
    private var incompleteTimer: Scheduled<Void>?
    private var handshakeTimer: Scheduled<Void>?
    /// Monotonic nanoseconds of the connection's start and of its last command (CLIENT INFO).
    private var connectedAtNanos: UInt64 = 0
    private var lastCommandAt: UInt64 = 0
    private var lastCommand = "NULL"
    private var batchCommands = 0
    private var tallies = Array(repeating: RESPStats.CommandTally(), count: RESPCommandTable.all.count + 1)
    private var latency = Array(repeating: UInt64(0), count: (RESPCommandTable.all.count + 1) * RESPStats.latencySlots)

    init(server: RESPServerContext, listener: String, tls: Bool, id: Int64) {
        self.server = server
        self.accessLog = server.accessLog
        self.commands = RESPSessionCommands(context: server)
        self.listener = listener
        self.tls = tls
        self.state = RESPConnectionState(id: id)
    }

    // MARK: lifecycle

    func channelActive(context: ChannelHandlerContext) {
        activated = true
        server.connections.openConnections.wrappingAdd(1, ordering: .relaxed)
        server.stats.connectedClients.wrappingAdd(1, ordering: .relaxed)
        server.stats.totalConnections.wrappingAdd(1, ordering: .relaxed)
        server.connections.register(context.channel)
        if let remote = context.channel.remoteAddress {
            peerAddress = "\(remote.ipAddress ?? "?"):\(remote.port ?? 0)"
            if let ip = remote.ipAddress.flatMap(IPAddress.init) { peerIP = ip }
        }
        if let local = context.channel.localAddress { localAddress = "\(local.ipAddress ?? "?"):\(local.port ?? 0)" }
        connectedAtNanos = monotonicNanos()
        lastCommandAt = connectedAtNanos
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        authTimer = context.eventLoop.scheduleTask(in: Self.authTimeout) {
            let (handler, context) = bound.value
            if handler.state.key == nil { handler.close(context) }
        }
        if tls {
            handshakeTimer = context.eventLoop.scheduleTask(in: Self.handshakeTimeout) { bound.value.1.close(promise: nil) }
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if activated {
            server.connections.openConnections.wrappingSubtract(1, ordering: .relaxed)
            server.stats.connectedClients.wrappingSubtract(1, ordering: .relaxed)
            server.connections.unregister(context.channel)
            activated = false
        }
        for timer in [authTimer, incompleteTimer, handshakeTimer] { timer?.cancel() }
        server.stats.merge(&tallies, latency: &latency)
        credential = nil
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The graceful stop: idle connections close now, busy ones after the current command.
        if event is ConnectionDrain {
            if !busy && !closing { close(context) }
            return
        }
        if case TLSUserEvent.handshakeCompleted = event {
            handshakeTimer?.cancel()
            handshakeTimer = nil
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// A lingering close: write what is pending; once every earlier write has reached the
    /// socket, send FIN (output closed) and keep reading — and dropping — the client's input
    /// until it closes. Closing at once would drop queued writes, and closing with unread input
    /// makes the kernel send RST, which throws away the end of a large reply the client has not
    /// read yet. A client that neither reads nor closes gets 5 s.
    private func close(_ context: ChannelHandlerContext) {
        guard !closing else { return }
        closing = true
        let bytes = writer.take()
        var buffer = context.channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let deadline = context.eventLoop.scheduleTask(in: .seconds(5)) { bound.value.1.close(promise: nil) }
        context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { result in
            let (handler, context) = bound.value
            // TLS has no half-close here: a close_notify and a full close.
            guard case .success = result, context.channel.isActive, !handler.tls else {
                deadline.cancel()
                context.close(promise: nil)
                return
            }
            context.close(mode: .output, promise: nil)
            handler.readHeld = false
            context.read()
        }
        context.channel.closeFuture.whenComplete { _ in deadline.cancel() }
    }

    // MARK: input

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        let buffer = unwrapInboundIn(data)
        if !sawFirstByte, let first = buffer.readableBytesView.first {
            sawFirstByte = true
            // A TLS ClientHello on the cleartext port: close without a word (spec/05 §1).
            if first == 0x16 && !tls {
                closing = true
                context.close(promise: nil)
                return
            }
        }
        parser.append(buffer.readableBytesView)
        process(context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if !busy { flush(context) }
        if batchCommands > 0 {
            server.stats.merge(&tallies, latency: &latency)
            batchCommands = 0
        }
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        if !closing && shouldHoldReads(context) {
            readHeld = true
            return
        }
        context.read()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        resumeReadsIfHeld(context)
        context.fireChannelWritabilityChanged()
    }

    private func shouldHoldReads(_ context: ChannelHandlerContext) -> Bool {
        !context.channel.isWritable || (busy && parser.bufferedBytes >= Self.pausedInputBytes)
    }

    private func resumeReadsIfHeld(_ context: ChannelHandlerContext) {
        if readHeld && !shouldHoldReads(context) {
            readHeld = false
            context.read()
        }
    }

    /// Runs queued commands until one waits, the input runs out or the connection closes.
    private func process(_ context: ChannelHandlerContext) {
        while !busy && !closing {
            switch parser.next() {
            case .needMore:
                updateIncompleteTimer(context)
                return
            case .failed(let error):
                writer.error(error.line)
                server.stats.protocolErrors.wrappingAdd(1, ordering: .relaxed)
                close(context)
                return
            case .command(let words):
                batchCommands += 1
                execute(words, context)
                if writer.bytes.count >= Self.flushThreshold { flush(context) }
            }
        }
    }

    private func updateIncompleteTimer(_ context: ChannelHandlerContext) {
        if parser.hasPartialCommand {
            guard incompleteTimer == nil else { return }
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            incompleteTimer = context.eventLoop.scheduleTask(in: Self.incompleteTimeout) {
                let (handler, context) = bound.value
                handler.incompleteTimer = nil
                guard handler.parser.hasPartialCommand, !handler.closing else { return }
                handler.writer.error("ERR TM-SYS-4000 Protocol error: incomplete command")
                handler.close(context)
            }
        } else if let timer = incompleteTimer {
            timer.cancel()
            incompleteTimer = nil
        }
    }

    private func flush(_ context: ChannelHandlerContext) {
        guard !writer.isEmpty else { return }
        let bytes = writer.take()
        var buffer = context.channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }

    // MARK: dispatch

    /// Tallies one finished command (failed when its reply, from `mark` on, is an error) and
    /// writes its access line when the level is on.
    private func tally(_ slot: Int, started: UInt64, mark: Int) {
        let elapsed = monotonicNanos() - started
        let failed = writer.bytes.count > mark && writer.bytes[mark] == UInt8(ascii: "-")
        tallies[slot].calls += 1
        tallies[slot].nanos += elapsed
        latency[slot * RESPStats.latencySlots + RESPStats.latencySlot(elapsed)] += 1
        if failed { tallies[slot].failed += 1 }
        // A successful command costs one level check (an atomic load) when DEBUG is off.
        let code = failed ? Self.errorCode(writer.bytes[mark...]) ?? "ERR" : nil
        let level = code == nil ? .debug : RESPAccessLog.level(code: code)
        guard let log = accessLog, log.wants(level) else { return }
        var fields: JSONObject = ["event": "request", "request_id": .string(Identifiers.requestID(incoming: nil))]
        fields.append("protocol", "resp")
        fields.append("method", .string(slot == RESPStats.unknownIndex ? "unknown" : lastCommand.uppercased()))
        fields.append("route", .string(slot == RESPStats.unknownIndex ? "unknown" : lastCommand.lowercased()))
        fields.append("code", .string(code ?? "OK"))
        fields.append("duration_ms", .double((Double(elapsed) / 10_000).rounded() / 100))
        fields.append("client_ip", .string(peerIP.description))
        fields.append("api_key_id", state.key.map { .string($0.id) } ?? .null)
        fields.append("listener", .string(listener))
        log.write(level, fields)
    }

    private func execute(_ words: [[UInt8]], _ context: ChannelHandlerContext) {
        let started = monotonicNanos()
        let mark = writer.bytes.count
        lastCommandAt = started
        // Steps 1-3 (unknown, arity, login): the role is checked after the key re-check.
        let spec: RESPCommandSpec
        switch RESPCommandTable.check(words, role: state.key == nil ? nil : .admin) {
        case .failure(let refusal):
            let name = RESPCommandTable.upper(Array(words[0].prefix(32)))
            // An HTTP request sent to the RESP port (spec/05 §1): close with a WARN, no reply.
            if name == "POST" || name == "HOST:" {
                server.warn("cross-protocol request on the RESP port", ["listener": listener, "client": peerAddress])
                close(context)
                return
            }
            let slot = RESPCommandTable.lookup(Array(name.utf8))?.ordinal ?? RESPStats.unknownIndex
            lastCommand = slot == RESPStats.unknownIndex ? "unknown" : name.lowercased()
            writer.error(refusal.line)
            return tally(slot, started: started, mark: mark)
        case .success(let s):
            spec = s
        }
        let slot = spec.ordinal
        lastCommand = spec.name
        // spec/10 §5: RESP has no carrier, so each sampled command is a root span.
        let span = server.startSpan?(spec.name)
        if let span {
            span.setAttribute("tokmesh.resp.command", string: spec.name)
            span.setAttribute("client.address", string: peerIP.description)
            if let key = state.key { span.setAttribute("tokmesh.api_key_id", string: key.id) }
        }
        let finished = { (handler: RESPConnectionHandler) in
            handler.tally(slot, started: started, mark: mark)
            if let span {
                let failed = handler.writer.bytes.count > mark && handler.writer.bytes[mark] == UInt8(ascii: "-")
                span.end(errorCode: failed ? Self.errorCode(handler.writer.bytes[mark...]) : nil)
            }
        }
        if spec.access != .none, let key = state.key {
            do throws(TokMeshError) {
                guard let principal = try server.authenticator.recheck(keyID: key.id, version: keyVersion, clientIP: peerIP, cache: &keyCheck) else {
                    // The key changed since AUTH: verify the kept credential again, then retry.
                    return reauthenticate(words, context)
                }
                state.key = (principal.keyID, principal.role)
            } catch {
                if error.code == .authInvalid || error.code == .authDisabled { logout() }
                writer.error(RESPSessionCommands.errorLine(error))
                return finished(self)
            }
            if let role = state.key?.role, let refusal = RESPCommandTable.roleRefusal(spec, role: role) {
                writer.error(refusal.line)
                return finished(self)
            }
        }
        if !spec.flags.contains(.loading) && !server.isReady() {
            writer.error("ERR TM-SYS-5030 Service not ready")
            return finished(self)
        }
        if spec.flags.contains(.write) && server.isRestoring() {
            writer.error("ERR TM-ADMIN-5031 Writes are refused while a restore runs")
            return finished(self)
        }
        switch spec.name {
        case "AUTH":
            auth(words, context) { handler in finished(handler) }
            return
        case "HELLO":
            hello(words, context) { handler in finished(handler) }
            return
        case "QUIT":
            writer.status("OK")
            finished(self)
            close(context)
            return
        case "INFO":
            writer.verbatim(RESPInfo.text(sections: words.dropFirst().map { String(decoding: $0, as: UTF8.self) }, server: server,
                                          tcpPort: localPortNumber))
        case "CLIENT" where String(decoding: words[1], as: UTF8.self).uppercased() == "INFO":
            writer.verbatim(clientInfo())
        case "PING", "ECHO", "SELECT", "CLIENT", "COMMAND", "CONFIG":
            _ = RESPConnectionCommands.handle(words, state: &state, writer: &writer, config: server.configTable)
        default:
            let caller = self.caller
            let outcome = span.map { span in TraceScope.with(span) { commands.run(spec.name, words, caller: caller, writer: &writer) } }
                ?? commands.run(spec.name, words, caller: caller, writer: &writer)
            switch outcome {
            case .replied:
                break
            case .afterLog(let index, let durable, let reply):
                wait(forLog: index, durable: durable, reply: reply, context) { handler in finished(handler) }
                return
            }
        }
        finished(self)
    }

    /// The TM code of an error reply (`-ERR TM-TOKN-4010 …` → `TM-TOKN-4010`), if it has one.
    static func errorCode(_ reply: ArraySlice<UInt8>) -> String? {
        let words = reply.prefix(64).split(separator: UInt8(ascii: " "), maxSplits: 2)
        guard words.count >= 2 else { return nil }
        let code = String(decoding: words[1], as: UTF8.self)
        return code.hasPrefix("TM-") ? code : nil
    }

    private var localPortNumber: Int { Int(localAddress.split(separator: ":").last ?? "") ?? 0 }

    /// Transport facts for the service: the key, the TCP peer and `<lib-name>[/<lib-ver>]`,
    /// built again only when the login or the client's library changed.
    private var callerCache: (key: String?, lib: String, version: String, context: CallerContext)?
    private var caller: CallerContext {
        if let c = callerCache, c.key == state.key?.id, c.lib == state.libName, c.version == state.libVersion { return c.context }
        let agent = state.libVersion.isEmpty ? state.libName : state.libName + "/" + state.libVersion
        let context = CallerContext(createdBy: state.key?.id ?? "anonymous", clientIP: peerIP.description, userAgent: agent)
        callerCache = (state.key?.id, state.libName, state.libVersion, context)
        return context
    }

    private func logout() {
        state.key = nil
        credential = nil
        keyCheck = nil
    }

    // MARK: waiting

    /// Holds the connection until `index` is acknowledged, then writes `reply` (or the log's
    /// failure) and goes on with the queued commands.
    private func wait(forLog index: UInt64, durable: Bool, reply: [UInt8], _ context: ChannelHandlerContext,
                      then: @escaping (RESPConnectionHandler) -> Void) {
        busy = true
        flush(context)
        let bound = NIOLoopBound((self, context, then), eventLoop: context.eventLoop)
        let loop = context.eventLoop
        server.acknowledge(index, durable) { ok in
            loop.execute {
                let (handler, context, then) = bound.value
                handler.busy = false
                if ok { handler.writer.raw(reply) } else { handler.writer.error("ERR TM-SYS-5001 the session log has failed; restart the node") }
                then(handler)
                handler.resume(context)
            }
        }
    }

    /// Runs `work` on the blocking pool and `then` on this loop with its result.
    private func offload<T: Sendable>(_ context: ChannelHandlerContext, _ work: @escaping @Sendable () throws(TokMeshError) -> T,
                                      then: @escaping (RESPConnectionHandler, ChannelHandlerContext, Result<T, TokMeshError>) -> Void) {
        busy = true
        flush(context)
        let bound = NIOLoopBound((self, context, then), eventLoop: context.eventLoop)
        server.blockingPool.runIfActive(eventLoop: context.eventLoop) { () -> Result<T, TokMeshError> in
            do throws(TokMeshError) { return .success(try work()) } catch { return .failure(error) }
        }.whenComplete { outcome in
            let (handler, context, then) = bound.value
            handler.busy = false
            switch outcome {
            case .success(let result): then(handler, context, result)
            case .failure: then(handler, context, .failure(TokMeshError(.sysUnavailable, "Node is stopping")))
            }
            handler.resume(context)
        }
    }

    /// After a wait (unless its continuation started another): flush, run what queued
    /// meanwhile, reopen reading.
    private func resume(_ context: ChannelHandlerContext) {
        guard !busy, !closing else { return }
        if server.connections.draining.load(ordering: .relaxed) { return close(context) }
        process(context)
        if !busy { flush(context) }
        if batchCommands > 0 {
            server.stats.merge(&tallies, latency: &latency)
            batchCommands = 0
        }
        resumeReadsIfHeld(context)
    }

    // MARK: authentication

    /// AUTH's credential forms (spec/05 §3): `id:secret`, `id secret`, `default id:secret`.
    static func credential(_ words: ArraySlice<[UInt8]>) -> String? {
        let parts = words.map { String(decoding: $0, as: UTF8.self) }
        switch parts.count {
        case 1: return parts[0]
        case 2: return parts[0] == "default" ? parts[1] : parts[0] + ":" + parts[1]
        default: return nil
        }
    }

    /// Steps 1-8 of spec/03 §4.2 for `credential`; `done` runs on the loop with the principal.
    private func authenticate(_ credential: String, _ context: ChannelHandlerContext,
                              done: @escaping (RESPConnectionHandler, ChannelHandlerContext, Result<Principal, TokMeshError>) -> Void) {
        guard server.keysLoaded() else { return done(self, context, .failure(TokMeshError(.sysUnavailable, "Service not ready"))) }
        let authenticator = server.authenticator
        do throws(TokMeshError) {
            switch try authenticator.begin(credential: credential, clientIP: peerIP, adminRoute: false) {
            case .authenticated(let principal):
                done(self, context, .success(principal))
            case .needsVerification(let pending):
                offload(context, { () throws(TokMeshError) -> Principal in try authenticator.verify(pending) }, then: done)
            }
        } catch {
            done(self, context, .failure(error))
        }
    }

    /// AUTH_FAILED (401-class refusals, at most 10 per IP per minute) and ACCESS_DENIED (403) as
    /// over HTTP (spec/03 §10); the operator is the key ID the credential names, never the secret.
    private func auditAuthFailure(_ error: TokMeshError, credential: String) {
        guard let audit = server.audit else { return }
        let action: String
        switch error.code.httpStatus {
        case 401 where audit.allowAuthFailed(ip: peerIP.description, now: server.sessions.clock.nowMillis()): action = "AUTH_FAILED"
        case 403: action = "ACCESS_DENIED"
        default: return
        }
        let keyID = credential.split(separator: ":", maxSplits: 1).first.flatMap { Identifiers.normalizeID(String($0), kind: .apiKey) }
        audit.record(AuditRecord(operatorID: keyID ?? "anonymous", action: action, resource: "RESP AUTH", success: false,
                                 errorCode: error.code.rawValue, ipAddress: peerIP.description, tcpRemoteIP: peerIP.description,
                                 userAgent: state.name, requestID: "", details: ["protocol": "resp", "listener": .string(listener)]))
    }

    /// Binds a verified key to the connection, or drops the login on failure.
    private func login(_ result: Result<Principal, TokMeshError>, credential: String) -> TokMeshError? {
        switch result {
        case .success(let principal):
            state.key = (principal.keyID, principal.role)
            keyVersion = server.authenticator.registry.get(principal.keyID)?.version ?? 0
            self.credential = credential
            authTimer?.cancel()
            authTimer = nil
            return nil
        case .failure(let error):
            logout()
            return error
        }
    }

    private func auth(_ words: [[UInt8]], _ context: ChannelHandlerContext, finished: @escaping (RESPConnectionHandler) -> Void) {
        guard let credential = Self.credential(words.dropFirst()) else {
            writer.error("ERR TM-ARG-1001 wrong number of arguments for 'auth' command")
            return finished(self)
        }
        authenticate(credential, context) { handler, _, result in
            if let error = handler.login(result, credential: credential) {
                handler.auditAuthFailure(error, credential: credential)
                handler.writer.error(RESPSessionCommands.errorLine(error))
            } else {
                handler.writer.status("OK")
            }
            finished(handler)
        }
    }

    private func hello(_ words: [[UInt8]], _ context: ChannelHandlerContext, finished: @escaping (RESPConnectionHandler) -> Void) {
        let request: RESPHelloRequest
        switch RESPConnectionCommands.parseHello(words) {
        case .failure(let refusal):
            writer.error(refusal.line)
            return finished(self)
        case .success(let r):
            request = r
        }
        let answer = { (handler: RESPConnectionHandler) in
            if let version = request.protocolVersion {
                handler.state.protocolVersion = version
                handler.writer.protocolVersion = version
            }
            if let name = request.name { handler.state.name = String(decoding: name, as: UTF8.self) }
            RESPConnectionCommands.helloReply(state: handler.state, version: handler.server.version, writer: &handler.writer)
            finished(handler)
        }
        // Without AUTH, HELLO answers and the login state stays as it was.
        guard let auth = request.auth else { return answer(self) }
        guard let credential = Self.credential([auth.user, auth.password][...]) else { return answer(self) }
        authenticate(credential, context) { handler, _, result in
            if let error = handler.login(result, credential: credential) {
                handler.auditAuthFailure(error, credential: credential)
                handler.writer.error(RESPSessionCommands.errorLine(error))
                return finished(handler)
            }
            answer(handler)
        }
    }

    /// The key changed since AUTH: verify the kept credential again, then run the command.
    private func reauthenticate(_ words: [[UInt8]], _ context: ChannelHandlerContext) {
        guard let credential else {
            logout()
            writer.error("NOAUTH TM-AUTH-4010 Authentication required.")
            return
        }
        authenticate(credential, context) { handler, context, result in
            if let error = handler.login(result, credential: credential) {
                handler.writer.error(RESPSessionCommands.errorLine(error))
                return
            }
            handler.execute(words, context)
        }
    }

    // MARK: CLIENT INFO

    private func clientInfo() -> String {
        let t = monotonicNanos()
        return "id=\(state.id) addr=\(peerAddress) laddr=\(localAddress) name=\(state.name) age=\((t - connectedAtNanos) / 1_000_000_000) "
            + "idle=\((t - lastCommandAt) / 1_000_000_000) db=0 resp=\(state.protocolVersion) user=\(state.key?.id ?? "") "
            + "lib-name=\(state.libName) lib-ver=\(state.libVersion) cmd=\(lastCommand.lowercased())\n"
    }
}
