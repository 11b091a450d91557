// ConfigReload: SIGHUP (spec/08 §7, systemd's ExecReload) re-reads the configuration from the
// same file, environment and flags as the start. A valid result applies what this build applies
// live — the log level — and logs `config_reloaded` with the keys that changed, naming those
// that take effect only at the next restart; an invalid one keeps the running configuration and
// logs `config_reload_failed` with every issue (without the message of a secret key). Either way
// the process keeps running: the default action of SIGHUP, ending the process, never happens.
import CoreMetrics
import Dispatch
import Foundation
import Synchronization
import TokMeshCore

final class ConfigReload: Sendable {
    /// Keys whose new value this build applies without a restart.
    static let appliedLive: Set<String> = ["telemetry.logging.level"]
    static let successes = CoreMetrics.Counter(label: "tokmesh_config_reloads_total", dimensions: [("result", "success")])
    static let failures = CoreMetrics.Counter(label: "tokmesh_config_reloads_total", dimensions: [("result", "failure")])

    private let load: @Sendable () throws(ConfigFailure) -> ServerConfig
    private let logger: Logger
    private let running: Mutex<[String: ConfigValue]>

    init(current: ServerConfig, logger: Logger, load: @escaping @Sendable () throws(ConfigFailure) -> ServerConfig) {
        self.load = load
        self.logger = logger
        running = Mutex(current.loaded.values)
    }

    /// Handles SIGHUP from now on; keep the returned source alive.
    func installSignalHandler() -> any DispatchSourceSignal {
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        source.setEventHandler { [self] in reload(trigger: "SIGHUP") }
        source.resume()
        return source
    }

    func reload(trigger: String) {
        let next: ServerConfig
        do {
            next = try load()
        } catch {
            let issues: [JSONValue] = error.issues.map { issue in
                let secret = ConfigKeys.byName[issue.key]?.secret == true
                return .object(["code": .string(issue.code.rawValue), "key": .string(issue.key),
                                "message": .string(secret ? "invalid value" : issue.message)])
            }
            logger.log(.error, "tokmesh.config", "configuration reload failed; the running configuration is kept", [
                "event": "config_reload_failed", "trigger": .string(trigger), "errors": .array(issues),
            ])
            Self.failures.increment()
            return
        }
        let changed = running.withLock { values -> [String] in
            let keys = Set(values.keys).union(next.loaded.values.keys)
            let changed = keys.filter { values[$0] != next.loaded.values[$0] }.sorted()
            values = next.loaded.values
            return changed
        }
        if let level = Logger.Level(name: next.logLevel) { logger.setLevel(level) }
        Self.successes.increment()
        let applied = changed.filter { Self.appliedLive.contains($0) }
        let atRestart = changed.filter { !Self.appliedLive.contains($0) }
        logger.log(.info, "tokmesh.config", "configuration reloaded", [
            "event": "config_reloaded", "trigger": .string(trigger),
            "file": next.loaded.filePath.map { .string($0) } ?? .null,
            "applied": .strings(applied), "pending_restart": .strings(atRestart),
            "telemetry": .object(["logging": .object(["level": .string(next.logLevel)])]),
        ])
        logger.log(.debug, "tokmesh.config", "log level in effect", ["level": .string(next.logLevel)])
    }
}
